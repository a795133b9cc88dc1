import type { AuditClient } from '@otel-audit/sdk';
import type { LoggedMessage, Transport } from './messages.js';
import type { EventFactory } from './to-event.js';
import type { LogCallback } from './types.js';

/** `logToConsole: true`: prints the message as the original does, and sends nothing. */
export const consoleTransport: Transport = {
  log(message: LoggedMessage, callback: LogCallback | undefined) {
    console.log(message.content);
    if (callback) {
      callback(null);
      return undefined;
    }
    return Promise.resolve(undefined);
  },
};

/**
 * Sends each message to the sidecar with the SDK's acknowledged `log()`: the promise resolves (the
 * callback is called) with the message uuid once the sidecar has the record on disk, and rejects
 * with the SDK's `AuditLogError` when it did not take it (validation, rejection, unreachable).
 */
export class SidecarTransport implements Transport {
  constructor(
    private readonly client: AuditClient,
    private readonly toEvent: EventFactory,
  ) {}

  log(message: LoggedMessage, callback: LogCallback | undefined): Promise<string> | undefined {
    const sent = this.send(message);
    if (!callback) return sent;
    sent.then(
      (id) => callback(null, id),
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
    );
    return undefined;
  }

  private async send(message: LoggedMessage): Promise<string> {
    const event = this.toEvent(message);
    await this.client.log(event);
    return event.uuid;
  }
}
