/** The audited calls both app-side scripts make: `@sap/audit-logging`'s v2 API, so the same code runs with the original and with the drop-in. */

interface Message {
  by(user: string): Message;
  tenant(tenant: string): Message;
  externalIP(ip: string): Message;
  attribute(attribute: object): Message;
  dataSubject(subject: object): Message;
  log(): Promise<unknown> | undefined;
}

/** What `v2()` resolves to, as far as these calls use it. */
export interface AuditLogV2 {
  securityMessage(format: string, ...args: unknown[]): Message;
  read(object: object): Message;
}

export function auditedCalls(log: AuditLogV2): {
  security: (i: number) => Promise<unknown>;
  read: () => Promise<unknown>;
} {
  return {
    security: (i) =>
      Promise.resolve(
        log
          .securityMessage('%d unsuccessful login attempts', i)
          .externalIP('127.0.0.1')
          .by('$USER')
          .tenant('$PROVIDER')
          .log(),
      ),
    read: () =>
      Promise.resolve(
        log
          .read({ type: 'online system', id: { name: 'Students info system' } })
          .attribute({ name: 'date-of-birth', successful: true })
          .dataSubject({ type: 'student', id: { student_id: 'st_123' } })
          .by('$USER')
          .tenant('$PROVIDER')
          .log(),
      ),
  };
}
