import type { Server } from '@grpc/grpc-js';
import type { Http2Server, ServerHttp2Session } from 'node:http2';
import type { Logger } from '../../telemetry/logger.js';

/**
 * The HTTP/2 receive windows the gRPC receiver gives its clients: per stream (a request may send
 * this much before the server must acknowledge it) and per connection (all its streams together).
 * HTTP/2's default of 64 KiB for both makes a client sending 300 KiB requests on several streams
 * wait for WINDOW_UPDATE frames again and again, and the server idle between them.
 */
export const STREAM_WINDOW_BYTES = 1024 * 1024;
export const CONNECTION_WINDOW_BYTES = 8 * 1024 * 1024;

/** The channel option grpc-js reads for this (so far on the client side only: grpc/grpc-node#3058). */
export const FLOW_CONTROL_WINDOW_OPTION = { 'grpc-node.flow_control_window': STREAM_WINDOW_BYTES } as const;

/**
 * Opens the receive windows of every connection `server` accepts from now on. grpc-js has no server
 * option for it yet, so this reaches its HTTP/2 servers (bound by `bindAsync`); should its internals
 * have changed, the defaults stay and this says so in the debug log.
 */
export function widenReceiveWindows(server: Server, logger: Logger): void {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map)) {
    logger.debug('grpc-js internals changed: the gRPC receiver keeps the default HTTP/2 windows of 64 KiB');
    return;
  }
  for (const http2Server of servers.keys() as Iterable<Http2Server>) {
    http2Server.on('session', (session: ServerHttp2Session) => {
      try {
        session.settings({ initialWindowSize: STREAM_WINDOW_BYTES });
        session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
      } catch (err) {
        // A session that is already closing: nothing to widen.
        logger.debug({ err }, 'could not widen the HTTP/2 windows of a gRPC connection');
      }
    });
  }
}
