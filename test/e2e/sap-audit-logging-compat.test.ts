/**
 * `@otel-audit/sap-audit-logging` next to the original `@sap/audit-logging` 7.0.2, in one process:
 * every check the original makes, made by the drop-in at the same call with the same error type
 * and message; the console output of `logToConsole`; callbacks and promises; the middleware; and
 * loading the package with `require`, with `import`, and under the old name (the npm alias).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import dropInEsm, { v2 as namedV2 } from '@otel-audit/sap-audit-logging';
import dropInMiddlewareEsm from '@otel-audit/sap-audit-logging/middleware';
import { cleanupAfter } from '../support/cleanup.js';
import { appWithAuditLogging, DROP_IN_PACKAGE, runInApp } from '../support/sap-audit-logging-alias.js';
import { tempDir } from '../support/tmp.js';

/** The surface of both packages, loosely typed so that the tests can call it wrongly. */
interface Message {
  by(user?: unknown): Message;
  tenant(tenant?: unknown, subdomain?: unknown): Message;
  at(time?: unknown): Message;
  attribute(attribute?: unknown): Message;
  attachment(attachment?: unknown): Message;
  dataSubject(subject?: unknown): Message;
  dataSubjects(subjects?: unknown): Message;
  accessChannel(channel?: unknown): Message;
  externalIP(ip?: unknown): Message;
  log(callback?: unknown): unknown;
  logPrepare(callback?: unknown): unknown;
  logSuccess(callback?: unknown): unknown;
  logFailure(callback?: unknown): unknown;
}

interface AuditLog {
  read(object?: unknown): Message;
  update(object?: unknown): Message;
  configurationChange(object?: unknown): Message;
  securityMessage(...args: unknown[]): Message;
}

interface AuditLogging {
  (...args: unknown[]): unknown;
  v2: (...args: unknown[]) => unknown;
}

type Middleware = (
  credentials?: unknown,
  version?: unknown,
) => (req: { auditLog?: AuditLog; authInfo?: unknown }, res: object, next: (err?: unknown) => void) => void;

const require = createRequire(import.meta.url);
const original = require('@sap/audit-logging') as AuditLogging;
const originalMiddleware = require('@sap/audit-logging/middleware') as Middleware;
const dropIn = require('@otel-audit/sap-audit-logging') as AuditLogging;
const dropInMiddleware = require('@otel-audit/sap-audit-logging/middleware') as Middleware;

const IMPLEMENTATIONS: readonly (readonly [string, AuditLogging])[] = [
  ['@sap/audit-logging', original],
  ['@otel-audit/sap-audit-logging', dropIn],
];

const CONSOLE = { logToConsole: true };
const OBJECT = { type: 'online system', id: { name: 'Students info system' } };
const SUBJECT = { type: 'student', id: { student_id: 'st_123' } };

/** What a call did: returned, or threw (which error, with which message and assertion fields). */
type Outcome =
  { threw: false } | { threw: true; type: string; code: unknown; message: string; assertion: readonly unknown[] };

function outcome(fn: () => unknown): Outcome {
  try {
    fn();
    return { threw: false };
  } catch (err) {
    const e = err as Error & { code?: unknown; actual?: unknown; expected?: unknown; operator?: unknown };
    const assertion = [e.actual, e.expected, e.operator, (e as { generatedMessage?: unknown }).generatedMessage];
    return { threw: true, type: e.constructor.name, code: e.code, message: e.message, assertion };
  }
}

/** Runs `fn` with console.log captured; returns what was printed, uuids and current times replaced. */
async function capturingConsole(fn: () => unknown): Promise<string[]> {
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => printed.push(args.map((a) => inspect(a)).join(' '));
  try {
    await fn();
  } finally {
    console.log = log;
  }
  return printed.map((p) =>
    p
      .replace(/uuid: '[0-9A-F-]+'/g, "uuid: 'UUID'")
      .replace(/time: '(?!1970)[^']+'/g, "time: 'NOW'")
      .replace(/\s+/g, ' '),
  );
}

async function consoleLogs(impl: AuditLogging): Promise<AuditLog> {
  return (await impl.v2(CONSOLE)) as AuditLog;
}

/** [what is called, the error both must throw (undefined: none)]. */
type Case = readonly [string, (al: AuditLog) => unknown, string | undefined, string?];

const AE = 'AssertionError';
const read = (al: AuditLog) => al.read(OBJECT).attribute({ name: 'a' }).dataSubject(SUBJECT).by('$USER');
const update = (al: AuditLog) =>
  al.update(OBJECT).attribute({ name: 'a', old: '1', new: '2' }).dataSubject(SUBJECT).by('$USER');
const change = (al: AuditLog) =>
  al.configurationChange(OBJECT).attribute({ name: 'a', old: '1', new: '2' }).by('$USER');

const CASES: readonly Case[] = [
  // The factories.
  ['read(undefined)', (al) => al.read(), AE, 'accessed-object should be a JavaScript object'],
  ['read("object")', (al) => al.read('object'), AE, 'accessed-object should be a JavaScript object'],
  ['read({})', (al) => al.read({}), AE, 'accessed-object/type should be a string'],
  ['read({type: ""})', (al) => al.read({ type: '', id: {} }), AE, 'accessed-object/type should not be empty'],
  ['read without id', (al) => al.read({ type: 't' }), AE, 'accessed-object/id should be a JavaScript object'],
  [
    'read with id {}',
    (al) => al.read({ type: 't', id: {} }),
    AE,
    'accessed-object/id should have at least one property',
  ],
  [
    'read with a numeric id',
    (al) => al.read({ type: 't', id: { k: 1 } }),
    AE,
    'accessed-object/id/k should be a string',
  ],
  ['read with an array id (accepted)', (al) => al.read({ type: 't', id: ['x'] }), undefined],
  [
    'update with id {}',
    (al) => al.update({ type: 't', id: {} }),
    AE,
    'accessed-object/id should have at least one property',
  ],
  ['configurationChange({})', (al) => al.configurationChange({}), AE, 'accessed-object/type should be a string'],
  ['securityMessage()', (al) => al.securityMessage(), AE, 'An argument should be provided'],
  ['securityMessage(undefined, 1)', (al) => al.securityMessage(undefined, 1), AE, 'An argument should be provided'],
  ['securityMessage(null)', (al) => al.securityMessage(null), undefined],
  // The common builder methods.
  ['by()', (al) => al.securityMessage('x').by(), AE, 'user should be a string'],
  ['by("")', (al) => al.securityMessage('x').by(''), AE, 'user should not be empty'],
  ['tenant(5)', (al) => al.securityMessage('x').tenant(5), AE, 'tenant should be a string'],
  ['tenant("")', (al) => al.securityMessage('x').tenant(''), AE, 'tenant should not be empty'],
  ['tenant with any subdomain', (al) => al.securityMessage('x').tenant('$SUBSCRIBER', 42), undefined],
  ['at("yesterday")', (al) => al.securityMessage('x').at('yesterday'), 'RangeError', 'Invalid time value'],
  ['at()', (al) => al.securityMessage('x').at(), 'RangeError', 'Invalid time value'],
  ['at(null)', (al) => al.securityMessage('x').at(null), undefined],
  ['externalIP("")', (al) => al.securityMessage('x').externalIP(''), AE, 'externalIP should not be empty'],
  ['externalIP(1)', (al) => al.securityMessage('x').externalIP(1), AE, 'externalIP should be a string'],
  // Data access.
  ['read attribute(null)', (al) => al.read(OBJECT).attribute(null), AE, 'attribute should be a JavaScript object'],
  ['read attribute({})', (al) => al.read(OBJECT).attribute({}), AE, 'attribute name should be a string'],
  ['read attribute name ""', (al) => al.read(OBJECT).attribute({ name: '' }), AE, 'attribute name should not be empty'],
  [
    'read attribute successful "yes"',
    (al) => al.read(OBJECT).attribute({ name: 'a', successful: 'yes' }),
    AE,
    'attribute successful should be a boolean',
  ],
  [
    'read attribute twice',
    (al) => al.read(OBJECT).attribute({ name: 'a' }).attribute({ name: 'a', successful: true }),
    'Error',
    'Attribute names must be unique',
  ],
  ['attachment("x")', (al) => al.read(OBJECT).attachment('x'), AE, 'attachment should be a JavaScript object'],
  ['attachment({})', (al) => al.read(OBJECT).attachment({}), AE, 'attachment id should be a string'],
  [
    'attachment name ""',
    (al) => al.read(OBJECT).attachment({ id: 'a', name: '' }),
    AE,
    'attachment name should not be empty',
  ],
  [
    'dataSubject role ""',
    (al) => al.read(OBJECT).dataSubject({ ...SUBJECT, role: '' }),
    AE,
    'data-subject/role should not be empty',
  ],
  [
    'dataSubject without id',
    (al) => al.read(OBJECT).dataSubject({ type: 's' }),
    AE,
    'data-subject/id should be a JavaScript object',
  ],
  [
    'dataSubjects([])',
    (al) => al.read(OBJECT).dataSubjects([]),
    AE,
    'data-subjects should be a non-empty JavaScript array',
  ],
  [
    'dataSubjects({})',
    (al) => al.read(OBJECT).dataSubjects({}),
    AE,
    'data-subjects should be a non-empty JavaScript array',
  ],
  [
    'dataSubjects with a bad second subject',
    (al) => al.read(OBJECT).dataSubjects([SUBJECT, { type: '', id: {} }]),
    AE,
    'data-subjects/1/type should not be empty',
  ],
  ['accessChannel("")', (al) => al.read(OBJECT).accessChannel(''), AE, 'accessChannel should not be empty'],
  // Data modification and configuration change.
  [
    'update attribute with old only',
    (al) => al.update(OBJECT).attribute({ name: 'a', old: 'x' }),
    AE,
    'attribute new value should be a string',
  ],
  [
    'update attribute with new only',
    (al) => al.update(OBJECT).attribute({ name: 'a', new: 'x' }),
    AE,
    'attribute old value should be a string',
  ],
  ['update attribute named only (accepted)', (al) => al.update(OBJECT).attribute({ name: 'a' }), undefined],
  [
    'update attribute with empty values (accepted)',
    (al) => al.update(OBJECT).attribute({ name: 'a', old: '', new: '' }),
    undefined,
  ],
  [
    'configuration attribute without values',
    (al) => al.configurationChange(OBJECT).attribute({ name: 'a' }),
    AE,
    'attribute old value should be a string',
  ],
  [
    'configuration attribute without new',
    (al) => al.configurationChange(OBJECT).attribute({ name: 'a', old: '1' }),
    AE,
    'attribute new value should be a string',
  ],
  // Methods a type does not have.
  ['update().log()', (al) => update(al).log(), 'TypeError', 'update(...).log is not a function'],
  ['securityMessage().attribute()', (al) => al.securityMessage('x').attribute({ name: 'a' }), 'TypeError'],
  ['configurationChange().dataSubject()', (al) => al.configurationChange(OBJECT).dataSubject(SUBJECT), 'TypeError'],
  // What log*() checks.
  ['security log() without by()', (al) => al.securityMessage('x').log(), AE, 'user should be provided'],
  ['read log() without by()', (al) => al.read(OBJECT).log(), AE, 'user should be provided'],
  [
    'read log() without attributes',
    (al) => al.read(OBJECT).by('u').log(),
    AE,
    'At least 1 attribute should be provided',
  ],
  [
    'read log() without data subject',
    (al) => al.read(OBJECT).attribute({ name: 'a' }).by('u').log(),
    AE,
    'data-subject(s) should be provided',
  ],
  [
    'update logPrepare() without data subject',
    (al) => al.update(OBJECT).attribute({ name: 'a' }).by('u').logPrepare(),
    AE,
    'data-subject should be provided',
  ],
  [
    'configuration logSuccess() without attributes',
    (al) => al.configurationChange(OBJECT).by('u').logSuccess(),
    AE,
    'At least 1 attribute should be provided',
  ],
  [
    'log("callback") before the content checks',
    (al) => al.securityMessage('x').log('cb'),
    AE,
    'Callback should be a function',
  ],
  ['logFailure(1)', (al) => change(al).logFailure(1), AE, 'Callback should be a function'],
  [
    'logPrepare() after logSuccess()',
    (al) => {
      const m = update(al);
      m.logSuccess();
      m.logPrepare();
    },
    'Error',
    'logSuccess already called on the current message',
  ],
  [
    'logPrepare() after logFailure()',
    (al) => {
      const m = change(al);
      m.logFailure();
      m.logPrepare();
    },
    'Error',
    'logFailure already called on the current message',
  ],
  [
    'logSuccess() after logFailure() (accepted)',
    (al) => {
      const m = change(al);
      m.logFailure();
      m.logSuccess();
    },
    undefined,
  ],
  // Complete messages.
  ['a complete read', (al) => read(al).at(42).log(), undefined],
  ['read with dataSubject and dataSubjects', (al) => read(al).dataSubjects([SUBJECT]).at(42).log(), undefined],
  ['a complete update, prepare', (al) => update(al).at(42).logPrepare(), undefined],
  ['a complete configuration change, failure', (al) => change(al).at(42).logFailure(), undefined],
  [
    'a complete security message, sent twice',
    (al) => {
      const m = al.securityMessage('%s: %d', 'x', 2).externalIP('::1').tenant('$SUBSCRIBER', 'sub').by('$USER');
      m.log();
      m.log();
    },
    undefined,
  ],
];

describe('@otel-audit/sap-audit-logging and @sap/audit-logging side by side', () => {
  it('v2(): the same checks of its arguments', async () => {
    const calls: [string, (impl: AuditLogging) => unknown, string | undefined][] = [
      ['v2()', (impl) => impl.v2(), 'Credentials should be a JavaScript object'],
      ['v2(null)', (impl) => impl.v2(null), 'Credentials should be a JavaScript object'],
      ['v2("binding")', (impl) => impl.v2('binding'), 'Credentials should be a JavaScript object'],
      ['v2(c, "context")', (impl) => impl.v2(CONSOLE, 'context'), 'SecurityContext should be a JavaScript object'],
      ['v2(c, {}, "callback")', (impl) => impl.v2(CONSOLE, {}, 'callback'), 'Callback should be a function'],
      ['v2(c, null, 42)', (impl) => impl.v2(CONSOLE, null, 42), 'Callback should be a function'],
      [
        'v2(c, () => {}, {})',
        (impl) => impl.v2(CONSOLE, () => {}, {}),
        'SecurityContext should be a JavaScript object',
      ],
      ['v2(c, {})', (impl) => impl.v2(CONSOLE, {}), undefined],
      ['v2(c, null)', (impl) => impl.v2(CONSOLE, null), undefined],
    ];
    for (const [name, call, message] of calls) {
      const [theirs, ours] = IMPLEMENTATIONS.map(([, impl]) => outcome(() => call(impl)));
      assert.deepEqual(ours, theirs, name);
      assert.equal(ours!.threw ? ours!.message : undefined, message, name);
      if (ours!.threw) assert.equal(ours!.type, 'AssertionError', name);
    }
  });

  it('v2(): promise and callback forms give the same logger', async () => {
    for (const [name, impl] of IMPLEMENTATIONS) {
      const viaPromise = (await impl.v2(CONSOLE)) as AuditLog;
      const forms = [
        (cb: (err: unknown, al: AuditLog) => void) => impl.v2(CONSOLE, cb),
        (cb: (err: unknown, al: AuditLog) => void) => impl.v2(CONSOLE, null, cb),
        (cb: (err: unknown, al: AuditLog) => void) => impl.v2(CONSOLE, {}, cb),
        (cb: (err: unknown, al: AuditLog) => void) => impl.v2(CONSOLE, undefined, cb),
      ];
      for (const form of forms) {
        let returned: unknown;
        const [err, viaCallback] = await new Promise<[unknown, AuditLog]>((resolve) => {
          returned = form((e, al) => resolve([e, al]));
        });
        assert.equal(err, null, name);
        assert.equal(returned, undefined, `${name}: v2 with a callback returns nothing`);
        assert.deepEqual(Object.keys(viaCallback).sort(), Object.keys(viaPromise).sort(), name);
      }
      assert.deepEqual(Object.keys(viaPromise).sort(), ['configurationChange', 'read', 'securityMessage', 'update']);
    }
  });

  it('every builder and log*() check: the same error type and message at the same call', async () => {
    const [theirs, ours] = await Promise.all(IMPLEMENTATIONS.map(([, impl]) => consoleLogs(impl)));
    let printed = 0;
    for (const [name, call, type, message] of CASES) {
      let theirOutcome: Outcome | undefined;
      let ourOutcome: Outcome | undefined;
      const theirPrints = await capturingConsole(() => (theirOutcome = outcome(() => call(theirs!))));
      const ourPrints = await capturingConsole(() => (ourOutcome = outcome(() => call(ours!))));
      assert.deepEqual(ourOutcome, theirOutcome, name);
      const result = ourOutcome!;
      if (type === undefined) assert.equal(result.threw, false, name);
      else {
        assert.ok(result.threw, `${name} should throw`);
        assert.equal(result.type, type, name);
        if (message !== undefined) assert.equal(result.message, message, name);
        if (type === AE) assert.equal(result.code, 'ERR_ASSERTION', name);
      }
      // logToConsole: what reached the console, field by field and in the same order.
      assert.deepEqual(ourPrints, theirPrints, `${name}: console output`);
      printed += ourPrints.length;
    }
    assert.equal(printed, 10, 'every message that was logged was printed');
  });

  it('logToConsole: callbacks are called at once with null, promises resolve to undefined', async () => {
    for (const [name, impl] of IMPLEMENTATIONS) {
      const al = await consoleLogs(impl);
      await capturingConsole(async () => {
        let args: unknown[] | undefined;
        const returned = read(al).log((...a: unknown[]) => (args = a));
        assert.deepEqual(args, [null], `${name}: called synchronously with null only`);
        assert.equal(returned, undefined, name);
        assert.equal(await read(al).log(), undefined, name);
        assert.equal(await update(al).logPrepare(), undefined, name);
      });
    }
  });

  it('the middleware: req.auditLog, and the same errors for missing credentials and a bad version', async () => {
    const run = (mw: Middleware, ...args: unknown[]) =>
      new Promise<{ err: unknown; req: { auditLog?: AuditLog } }>((resolve) => {
        const req: { auditLog?: AuditLog } = {};
        try {
          mw(...args)(req, {}, (err) => resolve({ err, req }));
        } catch {
          // The original goes on after reporting missing credentials, and then throws (below).
        }
      });
    for (const mw of [originalMiddleware, dropInMiddleware]) {
      const ok = await run(mw, CONSOLE);
      assert.equal(ok.err, undefined);
      assert.deepEqual(Object.keys(ok.req.auditLog!).sort(), [
        'configurationChange',
        'read',
        'securityMessage',
        'update',
      ]);
      const withVersion = await run(mw, CONSOLE, 2);
      assert.equal(withVersion.err, undefined);
      const missing = await run(mw, undefined);
      assert.ok(missing.err instanceof Error);
      assert.equal(missing.err.message, 'Missing credentials for audit log service.');
      const notANumber = await run(mw, CONSOLE, 'two');
      assert.ok(notANumber.err instanceof Error);
      assert.equal(notANumber.err.message, 'Provided auditlog version was not a number.');
    }
    // The original calls next() a second time in both cases (and throws for missing credentials);
    // the drop-in calls it once.
    const nexts: unknown[] = [];
    dropInMiddleware(CONSOLE, 'two')({}, {}, (err) => nexts.push(err));
    dropInMiddleware(undefined)({}, {}, (err) => nexts.push(err));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(nexts.length, 2);
    // The v1 API is not part of the drop-in.
    const v1 = await run(dropInMiddleware, CONSOLE, 1);
    assert.match((v1.err as Error).message, /implements the v2 API only/);
  });

  it('types v2() and the middleware for the bindings and frameworks applications have (checked by tsc)', () => {
    interface FrameworkRequest {
      method: string;
    }
    const handlers: ((req: FrameworkRequest, res: { statusCode: number }, next: (err?: unknown) => void) => void)[] =
      [];
    handlers.push(dropInMiddlewareEsm({ logToConsole: true }, 2));
    assert.equal(handlers.length, 1);
    // Compiled, not run: an interface-typed binding, a literal one, the callback form's types.
    interface Binding {
      url: string;
      uaa: { clientid: string; clientsecret: string; url: string };
    }
    const typed = async (binding: Binding) => {
      await namedV2(binding);
      await namedV2({ url: 'https://api.example', uaa: {} }, null);
      namedV2({ ...binding, otelAudit: { endpoint: 'http://127.0.0.1:4318' } }, (err, auditLog) => {
        if (err === null)
          auditLog
            ?.securityMessage('%s', err)
            .by('$USER')
            .log((e, id) => [e?.message, id?.length]);
      });
      // @ts-expect-error otelAudit.endpoint is a string
      namedV2({ otelAudit: { endpoint: 4318 } });
    };
    assert.equal(typeof typed, 'function');
  });

  it('loads with require and with import: one instance, with named ES exports', () => {
    assert.equal(dropInEsm, dropIn);
    assert.equal(namedV2, dropIn.v2);
    assert.equal(dropInMiddlewareEsm, dropInMiddleware);
    assert.equal(typeof dropIn, typeof original);
    assert.throws(
      () => dropIn(CONSOLE),
      /implements the v2 API only: use `await require\(\.\.\.\)\.v2\(credentials\)`/,
    );
  });

  it('installed under the old name (npm alias): require and import of @sap/audit-logging and /middleware', async (t) => {
    const defer = cleanupAfter(t);
    const tmp = await tempDir('otel-audit-alias-');
    defer(tmp.cleanup);
    const app = await appWithAuditLogging(tmp.dir, DROP_IN_PACKAGE);
    const body = (load: string) => `${load}
const read = (al) =>
  al.read({ type: 't', id: { k: 'v' } }).attribute({ name: 'a' }).dataSubject({ type: 's', id: { k: 'v' } });
(async () => {
  let v1;
  try { auditLogging({}); } catch (e) { v1 = e.message; }
  const al = await auditLogging.v2({ logToConsole: true });
  const req = {};
  await new Promise((resolve) => middleware({ logToConsole: true }, 2)(req, {}, resolve));
  let check;
  try { read(al).log(); } catch (e) { check = e.message; }
  process.stdout.write(JSON.stringify({ v1, check, middleware: Object.keys(req.auditLog).sort() }));
})();
`;
    await writeFile(
      join(tmp.dir, 'app.cjs'),
      body(
        "const auditLogging = require('@sap/audit-logging');\nconst middleware = require('@sap/audit-logging/middleware');",
      ),
    );
    await writeFile(
      join(tmp.dir, 'app.mjs'),
      body("import auditLogging from '@sap/audit-logging';\nimport middleware from '@sap/audit-logging/middleware';"),
    );
    for (const script of ['app.cjs', 'app.mjs']) {
      const result = await runInApp(app, join(tmp.dir, script));
      assert.equal(result.code, 0, result.stderr);
      const out = JSON.parse(result.stdout) as { v1: string; check: string; middleware: string[] };
      assert.match(out.v1, /@otel-audit\/sap-audit-logging implements the v2 API only/, script);
      assert.equal(out.check, 'user should be provided', script);
      assert.deepEqual(out.middleware, ['configurationChange', 'read', 'securityMessage', 'update'], script);
    }
  });
});
