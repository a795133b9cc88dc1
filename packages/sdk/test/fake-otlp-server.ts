import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatRejectionMessage, type RecordRejection, type ValidationIssue } from '@otel-audit/semconv';

export interface ReceivedRequest {
  readonly contentType: string;
  readonly body: Buffer;
  /** For JSON requests: the log records' `log.record.uid` values. */
  readonly uuids: string[];
}

export type Responder = (req: ReceivedRequest, res: ServerResponse) => void;

/** A scriptable OTLP/HTTP endpoint: each request is answered by the next responder (the last one repeats). */
export class FakeOtlpServer {
  readonly requests: ReceivedRequest[] = [];
  private server: Server | undefined;
  responders: Responder[] = [ok];

  async listen(port = 0): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const contentType = req.headers['content-type'] ?? '';
    const received: ReceivedRequest = { contentType, body, uuids: contentType.includes('json') ? jsonUuids(body) : [] };
    this.requests.push(received);
    const responder = this.responders.length > 1 ? this.responders.shift()! : this.responders[0]!;
    responder(received, res);
  }
}

function jsonUuids(body: Buffer): string[] {
  const req = JSON.parse(body.toString()) as {
    resourceLogs: {
      scopeLogs: { logRecords: { attributes: { key: string; value: { stringValue?: string } }[] }[] }[];
    }[];
  };
  return req.resourceLogs.flatMap((rl) =>
    rl.scopeLogs.flatMap((sl) =>
      sl.logRecords.map((r) => r.attributes.find((a) => a.key === 'log.record.uid')?.value.stringValue ?? ''),
    ),
  );
}

export const ok: Responder = (req, res) => {
  const json = req.contentType.includes('json');
  res.writeHead(200, { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
};

export function status(code: number, message: string, headers: Record<string, string> = {}): Responder {
  return (_req, res) => {
    res.writeHead(code, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify({ code: 14, message }));
  };
}

/**
 * Partial success as otel-audit's receiver answers it (the shared formatter): the records for which
 * `issuesOf(uuid)` gives issues are rejected, at their real positions in the request. Each message
 * sent is added to `sent`.
 */
export function partialWhere(
  issuesOf: (uuid: string) => readonly ValidationIssue[] | undefined,
  sent: string[] = [],
  maxLength?: number,
): Responder {
  return (req, res) => {
    const rejected: RecordRejection[] = [];
    req.uuids.forEach((uuid, index) => {
      const issues = issuesOf(uuid);
      if (issues !== undefined) rejected.push({ index, uuid, issues });
    });
    const errorMessage = formatRejectionMessage({ received: req.uuids.length, rejected }, maxLength);
    sent.push(errorMessage);
    res
      .writeHead(200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ partialSuccess: { rejectedLogRecords: String(rejected.length), errorMessage } }));
  };
}

/** Partial success rejecting the given uuids, in otel-audit's message format (or a free text). */
export function partial(rejected: string[], text?: string): Responder {
  if (text === undefined) {
    const names = new Set(rejected);
    return partialWhere((uuid) => (names.has(uuid) ? REQUIRED_OBJECT_TYPE : undefined));
  }
  return (_req, res) => {
    res
      .writeHead(200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ partialSuccess: { rejectedLogRecords: String(rejected.length), errorMessage: text } }));
  };
}

const REQUIRED_OBJECT_TYPE = [{ field: 'audit.object.type', message: 'required for audit.data_access' }];
