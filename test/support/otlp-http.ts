import { request } from 'node:http';

/** POSTs an OTLP/HTTP protobuf body to `http://${endpoint}/v1/logs`; resolves with the HTTP status code. */
export function postOtlpProtobuf(endpoint: string, body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `http://${endpoint}/v1/logs`,
      { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
