/**
 * The usage examples of `@sap/audit-logging`'s README (v2 API, OAuth2 plan), typed from its
 * documentation, as an application would run them: `require('@sap/audit-logging')` and
 * `require('@sap/audit-logging/middleware')`, the credentials from the environment (as @sap/xsenv
 * gives them). sap-audit-logging.e2e.test.ts runs this script once with the original package and
 * once with `@otel-audit/sap-audit-logging` installed under that name (the npm alias), unchanged.
 *
 * Prints one JSON line: what each `log*()` resolved to or called back with, in order.
 */

type Callback = (err: Error | null, id?: unknown) => void;

interface Message {
  attribute(attribute: object): Message;
  attachment(attachment: object): Message;
  dataSubject(subject: object): Message;
  dataSubjects(subjects: object[]): Message;
  accessChannel(channel: string): Message;
  externalIP(ip: string): Message;
  tenant(tenant: string, subdomain?: string): Message;
  by(user: string): Message;
  at(time: number | Date | string): Message;
  log(callback?: Callback): Promise<unknown> | undefined;
  logPrepare(callback?: Callback): Promise<unknown> | undefined;
  logSuccess(callback?: Callback): Promise<unknown> | undefined;
  logFailure(callback?: Callback): Promise<unknown> | undefined;
}

interface AuditLog {
  read(object: object): Message;
  update(object: object): Message;
  configurationChange(object: object): Message;
  securityMessage(format: string, ...args: unknown[]): Message;
}

interface AuditLogging {
  v2(
    credentials: object,
    securityContext?: unknown,
    callback?: (err: Error | null, auditLog: AuditLog) => void,
  ): unknown;
}

interface Request {
  authInfo?: object;
  auditLog?: AuditLog;
}

type Middleware = (credentials: object, version?: number) => (req: Request, res: object, next: Callback) => void;

// A CommonJS application, as the README's users write it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const auditLogging = require('@sap/audit-logging') as AuditLogging;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const auditMiddleware = require('@sap/audit-logging/middleware') as Middleware;

const credentials = JSON.parse(process.env['AUDITLOG_CREDENTIALS'] ?? '{}') as object;
/** An @sap/xssec security context of a client-credentials token (no user token to exchange). */
const securityContext = { getGrantType: () => 'client_credentials' };
const results: unknown[] = [];

/** Runs a callback-style call and resolves with what the callback got. */
function viaCallback(call: (cb: Callback) => void): Promise<unknown> {
  return new Promise((resolve, reject) => call((err, id) => (err ? reject(err) : resolve(id))));
}

async function main(): Promise<void> {
  // "Importing the library", promise based and with a callback and a security context.
  const auditLog = (await auditLogging.v2(credentials)) as AuditLog;
  const auditLogCb = await new Promise<AuditLog>((resolve, reject) =>
    auditLogging.v2(credentials, securityContext, (err, al) => (err ? reject(err) : resolve(al))),
  );

  // "Data access messages", promise based.
  results.push(
    await auditLog
      .read({ type: 'online system', id: { name: 'Students info system', module: 'Foreign students' } })
      .attribute({ name: 'status' })
      .attribute({ name: 'date-of-birth', successful: true })
      .attachment({ id: 'exam-results-9537' })
      .attachment({ id: 'recommendations-4381', name: 'file.doc' })
      .dataSubject({ type: 'student', id: { student_id: 'st_123' }, role: 'foreign student' })
      .accessChannel('UI')
      .tenant('$PROVIDER')
      .by('$USER')
      .at(42)
      .log(),
  );
  // The same with a callback, and with the array of data subjects the README shows in a comment.
  results.push(
    await viaCallback((cb) =>
      auditLogCb
        .read({ type: 'online system', id: { name: 'Students info system', module: 'Foreign students' } })
        .attribute({ name: 'status' })
        .attribute({ name: 'date-of-birth', successful: true })
        .dataSubjects([
          { type: 'student', id: { student_id: 'st_913' }, role: 'foreign student' },
          { type: 'student', id: { student_id: 'st_619' }, role: 'foreign student' },
        ])
        .accessChannel('UI')
        .tenant('$PROVIDER')
        .by('$USER')
        .at(new Date(42))
        .log(cb),
    ),
  );

  // "Data modification messages", with callbacks: logPrepare, then logSuccess.
  const modification = auditLog
    .update({ type: 'online system', id: { name: 'Students info system', module: 'Foreign students' } })
    .attribute({ name: 'status' })
    .attribute({ name: 'town', old: 'Birmingham', new: 'London' })
    .dataSubject({ type: 'student', id: { student_id: 'st_123' }, role: 'foreign student' })
    .tenant('$PROVIDER')
    .by('$USER')
    .at('1970-01-01T00:00:00.042Z');
  results.push(await viaCallback((cb) => modification.logPrepare(cb)));
  results.push(await viaCallback((cb) => modification.logSuccess(cb)));
  // Promise based: logPrepare, then logFailure.
  const failedModification = auditLog
    .update({ type: 'online system', id: { name: 'Students info system', module: 'Foreign students' } })
    .attribute({ name: 'town', old: 'Birmingham', new: 'London' })
    .dataSubject({ type: 'student', id: { student_id: 'st_123' } })
    .tenant('$PROVIDER')
    .by('$USER')
    .at(42);
  results.push(await failedModification.logPrepare());
  results.push(await failedModification.logFailure());

  // "Configuration change messages", promise based: prepare, success; then a failure.
  const change = auditLog
    .configurationChange({
      type: 'online system',
      id: { name: 'Students info system', configuration: 'global-config' },
    })
    .attribute({ name: 'session timeout', old: '5', new: '25' })
    .tenant('$PROVIDER')
    .by('$USER')
    .at(42);
  results.push(await change.logPrepare());
  results.push(await change.logSuccess());
  results.push(await viaCallback((cb) => change.logFailure(cb)));

  // "General security messages", promise based and with a callback.
  results.push(
    await auditLog
      .securityMessage('%d unsuccessful login attempts', 3)
      .externalIP('127.0.0.1')
      .tenant('$PROVIDER')
      .by('$USER')
      .at(42)
      .log(),
  );
  results.push(
    await viaCallback((cb) =>
      auditLogCb
        .securityMessage('%d unsuccessful login attempts', 3)
        .externalIP('127.0.0.1')
        .tenant('$PROVIDER')
        .by('$USER')
        .log(cb),
    ),
  );
  // `.tenant('$SUBSCRIBER', subdomain)`: written with the subscriber's token.
  results.push(
    await auditLog
      .securityMessage('user %s locked', 'jane')
      .tenant('$SUBSCRIBER', 'customer-a')
      .by('$USER')
      .at(42)
      .log(),
  );

  // "Express Middleware", "Simple Usage": `app.use(auditMiddleware(auditLogConfig, 2))`, called as
  // Express calls it, then a route's use of `req.auditLog`.
  const req: Request = {};
  await viaCallback((next) => auditMiddleware(credentials, 2)(req, {}, next));
  results.push(
    await req
      .auditLog!.securityMessage('%s logged in', 'john')
      .externalIP('10.0.0.1')
      .tenant('$PROVIDER')
      .by('$USER')
      .at(42)
      .log(),
  );
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
