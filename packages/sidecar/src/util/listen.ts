import type { Server } from 'node:net';
import { parseEndpoint } from './endpoint.js';

/** Starts `server` on a `host:port` endpoint; rejects if it cannot bind (address in use, no permission). */
export function listen(server: Server, endpoint: string): Promise<void> {
  const { host, port } = parseEndpoint(endpoint);
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
