/**
 * The protobuf fast path against the reference (decoder → objects → semconv mapping): for every
 * request, valid or not, it must accept, reject, report and dead-letter exactly the same, with
 * byte-identical local records, or refuse the request with the same error. Requests come from a
 * seeded generator of audit records with random mistakes, and from byte-level mutations.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { Attr, SplunkAttr, StructuredAttr } from '@otel-audit/semconv';
import type { ConsumeResult } from '../../src/model/consume.js';
import type { DeadLetter } from '../../src/model/dead-letter.js';
import {
  DEFAULT_DECODE_LIMITS,
  DEFAULT_RECORD_LIMITS,
  type DecodeLimits,
  type RecordLimits,
} from '../../src/model/limits.js';
import { spoolInputOf, type SpoolInput } from '../../src/model/spooled-record.js';
import { decodeLogsRequestProto } from '../../src/otlp/decode-proto.js';
import { Key, KeyMemo } from '../../src/pipeline/fast/attribute-keys.js';
import { AuditPipeline } from '../../src/pipeline/pipeline.js';
import { ProtoPipeline, scanRequest } from '../../src/pipeline/proto-pipeline.js';
import { otelRecords, SeverityNumber } from '../otel-records.js';

const RECEIVED = Date.UTC(2026, 10, 21, 12, 0, 0, 7);

// ---- A small protobuf encoder that can write anything, invalid UTF-8 included. ----

type Value =
  | { s: string | Buffer }
  | { b: boolean }
  | { i: bigint }
  | { d: number }
  | { a: Value[] }
  | { kv: [string | Buffer, Value][] }
  | { bytes: Buffer }
  /** The AnyValue's bytes as given (malformed ones too). */
  | { rawAny: Buffer }
  | null;

interface Rec {
  eventName?: string | Buffer;
  time?: bigint;
  observed?: bigint;
  severity?: number;
  severityText?: string;
  body?: Value;
  attributes: [string | Buffer, Value][];
  /** Bytes appended to the encoded record as they are (malformed fields). */
  rawTail?: Buffer;
}

function varint(v: bigint): number[] {
  let x = BigInt.asUintN(64, v);
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

function field(n: number, wire: number, payload: Buffer): Buffer {
  const tag = Buffer.from(varint(BigInt((n << 3) | wire)));
  if (wire === 2) return Buffer.concat([tag, Buffer.from(varint(BigInt(payload.length))), payload]);
  return Buffer.concat([tag, payload]);
}

const len = (n: number, payload: Buffer | string) =>
  field(n, 2, typeof payload === 'string' ? Buffer.from(payload) : payload);
const vint = (n: number, v: bigint) => field(n, 0, Buffer.from(varint(v)));
function fixed64(n: number, v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return field(n, 1, b);
}

function anyValue(v: Value): Buffer {
  if (v === null) return Buffer.alloc(0);
  if ('s' in v) return len(1, v.s);
  if ('b' in v) return vint(2, v.b ? 1n : 0n);
  if ('i' in v) return vint(3, v.i);
  if ('d' in v) {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v.d);
    return field(4, 1, b);
  }
  if ('a' in v) return len(5, Buffer.concat(v.a.map((x) => len(1, anyValue(x)))));
  if ('kv' in v) return len(6, Buffer.concat(v.kv.map(([k, x]) => len(1, keyValue(k, x)))));
  if ('rawAny' in v) return v.rawAny;
  return len(7, v.bytes);
}

function keyValue(k: string | Buffer, v: Value): Buffer {
  return Buffer.concat([len(1, k), len(2, anyValue(v))]);
}

function logRecord(r: Rec): Buffer {
  const parts: Buffer[] = [];
  if (r.time !== undefined) parts.push(fixed64(1, r.time));
  if (r.severity !== undefined) parts.push(vint(2, BigInt(r.severity)));
  if (r.severityText !== undefined) parts.push(len(3, r.severityText));
  if (r.body !== undefined) parts.push(len(5, anyValue(r.body)));
  for (const [k, v] of r.attributes) parts.push(len(6, keyValue(k, v)));
  if (r.observed !== undefined) parts.push(fixed64(11, r.observed));
  if (r.eventName !== undefined) parts.push(len(12, r.eventName));
  if (r.rawTail !== undefined) parts.push(r.rawTail);
  return Buffer.concat(parts);
}

function request(records: Rec[], resource: [string, Value][] = [['service.name', { s: 'billing' }]]): Buffer {
  const res = len(1, Buffer.concat(resource.map(([k, v]) => len(1, keyValue(k, v)))));
  const scope = len(1, Buffer.concat([len(1, 'audit-test'), len(2, '1.2.3')]));
  const scopeLogs = len(2, Buffer.concat([scope, ...records.map((r) => len(2, logRecord(r)))]));
  return len(1, Buffer.concat([res, scopeLogs]));
}

// ---- Both paths, compared. ----

interface Outcome {
  readonly error?: string;
  readonly result?: ConsumeResult;
  readonly inputs?: unknown[];
  readonly letters?: unknown[];
  /** Accepted records whose JSON the fast path wrote itself. */
  readonly fast?: number;
}

function normalize(inputs: readonly SpoolInput[]): unknown[] {
  return inputs.map((r) => ({ ...r, json: r.json.toString() }));
}

function withoutTime(letters: readonly DeadLetter[]): unknown[] {
  return letters.map((l) => ({ ...l, time: undefined }));
}

function capture() {
  const inputs: SpoolInput[] = [];
  const letters: DeadLetter[] = [];
  const deadLetters = { write: async (_id: string, l: readonly DeadLetter[]) => void letters.push(...l) };
  const reference = new AuditPipeline(
    { write: async (records) => void inputs.push(...records.map((r) => spoolInputOf(r, RECEIVED))) },
    deadLetters,
  );
  return { inputs, letters, deadLetters, reference };
}

async function viaReference(body: Buffer, decodeLimits: DecodeLimits, limits: RecordLimits): Promise<Outcome> {
  const c = capture();
  let request;
  try {
    request = decodeLogsRequestProto(body, decodeLimits);
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
  const result = await c.reference.process(request, limits, RECEIVED);
  return { result, inputs: normalize(c.inputs), letters: withoutTime(c.letters) };
}

async function viaFastPath(body: Buffer, decodeLimits: DecodeLimits, limits: RecordLimits): Promise<Outcome> {
  const c = capture();
  const pipeline = new ProtoPipeline(
    { writeInputs: async (inputs) => void c.inputs.push(...inputs) },
    c.deadLetters,
    c.reference,
  );
  let prepared;
  try {
    prepared = await pipeline.prepare(body, decodeLimits, limits, undefined, RECEIVED);
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
  const result = await prepared.store();
  const fast = c.inputs.filter((r) => typeof r.json !== 'string').length;
  return { result, inputs: normalize(c.inputs), letters: withoutTime(c.letters), fast };
}

/** Asserts both paths agree; returns how many records the fast path wrote itself. */
async function same(
  body: Buffer,
  decodeLimits: DecodeLimits = DEFAULT_DECODE_LIMITS,
  limits: RecordLimits = DEFAULT_RECORD_LIMITS,
): Promise<number> {
  const reference = await viaReference(body, decodeLimits, limits);
  const { fast, ...fastPath } = await viaFastPath(body, decodeLimits, limits);
  assert.deepEqual(fastPath, reference, `request ${body.toString('base64')}`);
  return fast ?? 0;
}

// ---- Records: valid per kind, then random mistakes. ----

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const s = (x: string | Buffer): Value => ({ s: x });
const arr = (...xs: string[]): Value => ({ a: xs.map(s) });

function uuid(r: () => number): string {
  const hex = () => Math.floor(r() * 16).toString(16);
  const part = (n: number) => Array.from({ length: n }, hex).join('');
  return `${part(8)}-${part(4)}-4${part(3)}-8${part(3)}-${part(12)}`;
}

function common(r: () => number, n: number): [string, Value][] {
  return [
    ['log.record.uid', s(uuid(r))],
    ['user.id', s(`user-${n}@example.com`)],
    ['audit.tenant', s('$PROVIDER')],
    ['audit.success', { b: r() < 0.5 }],
    ['audit.custom.requestId', s(`req-${n}`)],
    ['audit.custom.region', s('eu10')],
  ];
}

const personal: [string, Value][] = [
  ['audit.object.type', s('customer record')],
  ['audit.object.id.id', s('C-1')],
  ['audit.data_subject.type', s('customer')],
  ['audit.data_subject.id.id', s('C-1')],
  ['audit.data_subject.id.email', s('c@example.org')],
];

function validRecord(r: () => number, n: number): Rec {
  const kind = n % 6;
  const base = common(r, n);
  const time = BigInt(1_763_719_200_000 + n) * 1_000_000n + BigInt(Math.floor(r() * 1e6));
  switch (kind) {
    case 0:
      return {
        eventName: 'audit.security_event',
        time,
        body: s(`${n} unsuccessful login attempts`),
        attributes: [
          ...base,
          ['client.address', s(`10.0.0.${n % 256}`)],
          ['audit.identity_provider', s('accounts.sap.com')],
          ['audit.attribute.names', arr('action', 'reason')],
          ['audit.attribute.action.value', s('login')],
          ['audit.attribute.reason.value', s('invalid password')],
        ],
      };
    case 1:
      return {
        eventName: 'audit.data_access',
        time,
        attributes: [
          ...base,
          ['audit.identity_provider', s('accounts.sap.com')],
          ['audit.channel', s('API')],
          ...personal,
          ['audit.data_subject.role', s('account holder')],
          ['audit.attribute.names', arr('iban', 'birth_date')],
          ['audit.attribute.iban.successful', { b: true }],
          ['audit.attachment.ids', arr('doc-1', 'doc-2')],
          ['audit.attachment.names', arr('contract.pdf', '')],
        ],
      };
    case 2:
      return {
        eventName: 'audit.data_modification',
        observed: time,
        attributes: [
          ...base,
          ['audit.message.id', s(`change-${n}`)],
          ...personal,
          ['audit.attribute.names', arr('email', 'phone')],
          ['audit.attribute.email.old', s('a@example.org')],
          ['audit.attribute.email.new', s('b@example.org')],
          ['audit.attribute.phone.new', s('')],
        ],
      };
    case 3:
      return {
        eventName: 'audit.data_deletion',
        time,
        attributes: [
          ...base,
          ...personal,
          ['audit.attribute.names', arr('street')],
          ['audit.attribute.street.old', s('Main Street 1')],
        ],
      };
    case 4:
      return {
        eventName: 'audit.configuration_change',
        time,
        attributes: [
          ...base,
          ['audit.object.type', s('tenant settings')],
          ['audit.object.id.id', s('tenant-4')],
          ['audit.object.id.name', s('password policy')],
          ['audit.attribute.names', arr('min_length')],
          ['audit.attribute.min_length.old', s('10')],
          ['audit.attribute.min_length.new', s('12')],
        ],
      };
    default:
      return {
        eventName: 'audit.configuration_deletion',
        attributes: [
          ...base,
          ['audit.object.type', s('api key')],
          ['audit.object.id.id', s('key-5')],
          ['audit.attribute.names', arr('scope')],
          ['audit.attribute.scope.old', s('orders:read')],
        ],
      };
  }
}

/** Strings that need care: escapes, non-ASCII, white space JavaScript trims, invalid UTF-8. */
const ODD_STRINGS: (string | Buffer)[] = [
  '',
  ' ',
  '\t\n',
  '\u00a0',
  '\u3000',
  '\ufeff',
  '\u2028x',
  ' x ',
  'quote " and \\ backslash',
  'ctrl \u0001\u001f\u007f \b\f\r',
  'ümlaut €uro 😀',
  '山田',
  '$SUBSCRIBER',
  'a b',
  'my-subdomain',
  '-bad-',
  'x'.repeat(64),
  'ABCDEF01-2345-4789-8abc-DEF012345678',
  '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c1',
  '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c111',
  '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c1g',
  'not-a-uuid',
  '10.1.2.3',
  '::1',
  '999.1.1.1',
  '0',
  '123',
  '__proto__',
  Buffer.from([0x61, 0xff, 0x62]),
  Buffer.from([0xc3]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xe2, 0x80, 0xa9]),
];

const EXTRA_KEYS = [
  'audit.channel',
  'audit.message.id',
  'audit.identity_provider',
  'audit.attachment.ids',
  'audit.attachment.names',
  'audit.object.type',
  'audit.object.id.key',
  'audit.object.id.',
  'audit.object.id.7',
  'audit.data_subject.type',
  'audit.data_subject.role',
  'audit.data_subject.id.x',
  'audit.custom.',
  'audit.custom.__proto__',
  'audit.custom.42',
  'audit.custom.ünï',
  'audit.attribute.names',
  'audit.attribute.extra.old',
  'audit.attribute.extra.new',
  'audit.attribute.action.value',
  'audit.attribute.email.new',
  'audit.attribute.iban.successful',
  'audit.attribute.ib.successful',
  'audit.attribute.ibanx.successful',
  'audit.attribute.x.bogus',
  'audit.attribute..old',
  'audit.attribute.old',
  'audit.tenant',
  'audit.tenant.subdomain',
  'audit.success',
  'audit.unknown',
  'audit.object.id',
  'audit.data_subject.id',
  'audit.data_subjects',
  'audit.attributes',
  'audit.custom_details',
  'log.record.uid',
  'user.id',
  'client.address',
  'event.name',
  'com.splunk.index',
  'host.name',
  'service.name',
  'x.other',
  '',
];

function oddValue(r: () => number): Value {
  const pick = r();
  if (pick < 0.45) return s(ODD_STRINGS[Math.floor(r() * ODD_STRINGS.length)]!);
  if (pick < 0.55) return { b: r() < 0.5 };
  if (pick < 0.6) return { i: BigInt(Math.floor(r() * 2000) - 1000) };
  if (pick < 0.63) return { d: r() * 100 };
  if (pick < 0.75)
    return arr(
      ...Array.from({ length: Math.floor(r() * 4) }, () => ['a', 'b', ' ', 'a', 'iban'][Math.floor(r() * 5)]!),
    );
  if (pick < 0.8) return { a: [s('x'), { i: 1n }] };
  if (pick < 0.87)
    return {
      kv: [
        ['id', s('k')],
        ['n', { kv: [['deep', { b: true }]] }],
      ],
    };
  if (pick < 0.9) return { bytes: Buffer.from([1, 2, 3]) };
  return null;
}

function mutate(r: () => number, rec: Rec): Rec {
  const attributes = [...rec.attributes];
  const out: Rec = { ...rec, attributes };
  const steps = Math.floor(r() * 3);
  for (let k = 0; k < steps; k++) {
    const what = Math.floor(r() * 12);
    const i = Math.floor(r() * attributes.length);
    switch (what) {
      case 0:
        attributes.splice(i, 1);
        break;
      case 1:
        if (attributes[i]) attributes.push(attributes[i]);
        break;
      case 2:
        if (attributes[i]) attributes[i] = [attributes[i][0], oddValue(r)];
        break;
      case 3:
      case 4:
        attributes.splice(i, 0, [EXTRA_KEYS[Math.floor(r() * EXTRA_KEYS.length)]!, oddValue(r)]);
        break;
      case 5:
        attributes.reverse();
        break;
      case 6:
        out.body = r() < 0.5 ? oddValue(r) : s(ODD_STRINGS[Math.floor(r() * ODD_STRINGS.length)]!);
        break;
      case 7: {
        const names = ['audit.security_event', 'audit.data_access', 'audit.nope', 'http.request', '', 'audit.'];
        out.eventName = r() < 0.1 ? undefined : names[Math.floor(r() * names.length)];
        if (out.eventName === '' || out.eventName === undefined)
          attributes.push(['event.name', s(r() < 0.7 ? 'audit.security_event' : 'other')]);
        break;
      }
      case 8:
        out.time = r() < 0.5 ? undefined : [0n, 1n, 999_999n, 18_446_744_073_709_551_615n][Math.floor(r() * 4)];
        out.observed = r() < 0.5 ? undefined : BigInt(Math.floor(r() * 1e18));
        break;
      case 9:
        out.severity = r() < 0.5 ? -3 : 9;
        out.severityText = r() < 0.5 ? 'INFO' : '\u00e9';
        break;
      case 10:
        if (attributes[i]) attributes[i] = [attributes[i][0], s(ODD_STRINGS[Math.floor(r() * ODD_STRINGS.length)]!)];
        break;
      default:
        if (attributes[i])
          attributes[i] = [
            Buffer.concat([Buffer.from(String(attributes[i][0])), Buffer.from([0xff])]),
            attributes[i][1],
          ];
    }
  }
  return out;
}

describe('protobuf fast path', () => {
  it('takes every valid record of the official OTel JS encoder itself, byte for byte as the reference', async () => {
    const r = rng(1);
    const records = Array.from({ length: 60 }, (_, n) => {
      const rec = validRecord(r, n);
      const attributes: Record<string, string | boolean | string[]> = {};
      for (const [k, v] of rec.attributes) {
        if (v !== null && 's' in v) attributes[String(k)] = String(v.s);
        else if (v !== null && 'b' in v) attributes[String(k)] = v.b;
        else if (v !== null && 'a' in v) attributes[String(k)] = v.a.map((x) => (x as { s: string }).s);
      }
      const ms = Number((rec.time ?? rec.observed ?? 0n) / 1_000_000n);
      return {
        eventName: String(rec.eventName),
        timestamp: ms === 0 ? undefined : ([Math.floor(ms / 1000), (ms % 1000) * 1e6] as [number, number]),
        severityNumber: SeverityNumber.INFO,
        severityText: 'INFO',
        body: rec.body !== undefined && rec.body !== null && 's' in rec.body ? String(rec.body.s) : undefined,
        attributes,
      };
    });
    const body = Buffer.from(ProtobufLogsSerializer.serializeRequest(otelRecords(records))!);
    const fast = await same(body);
    assert.equal(fast, 60);
  });

  it('agrees with the reference on generated records with random mistakes', async () => {
    let fast = 0;
    let accepted = 0;
    for (let seed = 0; seed < 300; seed++) {
      const r = rng(seed);
      const records = Array.from({ length: 12 }, (_, n) => {
        const valid = validRecord(r, seed * 12 + n);
        return r() < 0.35 ? valid : mutate(r, valid);
      });
      const resource: [string, Value][] =
        seed % 7 === 0
          ? [
              ['service.name', s('x')],
              ['com.splunk.index', s(seed % 2 ? 'audit' : 'i'.repeat(2000))],
              ['host.name', s('n')],
            ]
          : [
              ['service.name', s('billing')],
              ['deployment.environment.name', s('prod')],
            ];
      const body = request(records, resource);
      fast += await same(body);
      accepted += (await viaReference(body, DEFAULT_DECODE_LIMITS, DEFAULT_RECORD_LIMITS)).result?.accepted ?? 0;
      // Tight limits: records over them are rejected, the same way on both paths.
      const tight = [
        { maxAttributes: 12, maxValueLength: 100 },
        { maxAttributes: 512, maxValueLength: 14 },
        { maxAttributes: 15, maxValueLength: 40 },
      ][seed % 3]!;
      await same(body, { ...DEFAULT_DECODE_LIMITS, maxAttributes: tight.maxAttributes, maxDepth: seed % 3 }, tight);
    }
    // The generator must exercise the fast path, not only the fallback.
    assert.ok(accepted > 1000, `${accepted} accepted`);
    assert.ok(fast > accepted * 0.5, `${fast} of ${accepted} accepted records on the fast path`);
  });

  it('agrees with the reference on every single change to a valid record (each value replaced, each key added)', async () => {
    const r = rng(7);
    const values: Value[] = [
      ...ODD_STRINGS.map(s),
      { b: true },
      { b: false },
      { i: 7n },
      { d: 1.5 },
      null,
      arr(),
      arr('iban'),
      arr('iban', ' '),
      arr('iban', 'iban'),
      arr('iban', 'ibanx'),
      arr('ib', 'iban'),
      arr('iban', 'birth_date', 'extra'),
      arr('doc-1'),
      arr('doc-1', 'doc-2', 'doc-3'),
      arr('', 'x'),
      arr('action', 'reason', 'client'),
      arr('email', 'phone', 'email'),
      { a: [s('a'), { b: true }] },
      { kv: [['id', s('k')]] },
      { bytes: Buffer.from('abc') },
    ];
    let fast = 0;
    for (let kind = 0; kind < 6; kind++) {
      const valid = validRecord(r, kind);
      const variants: Rec[] = [];
      for (let i = 0; i < valid.attributes.length; i++) {
        for (const v of values) {
          const attributes = [...valid.attributes];
          attributes[i] = [attributes[i]![0], v];
          variants.push({ ...valid, attributes });
        }
        variants.push({ ...valid, attributes: valid.attributes.filter((_, j) => j !== i) });
        variants.push({ ...valid, attributes: [...valid.attributes, valid.attributes[i]!] });
      }
      for (const key of EXTRA_KEYS) {
        for (const v of values) variants.push({ ...valid, attributes: [...valid.attributes, [key, v]] });
      }
      for (const v of values) variants.push({ ...valid, body: v });
      for (let k = 0; k < variants.length; k += 50) {
        const body = request(variants.slice(k, k + 50));
        fast += await same(body);
        await same(body, DEFAULT_DECODE_LIMITS, { maxAttributes: 512, maxValueLength: 40 });
      }
    }
    assert.ok(fast > 500, `${fast} records on the fast path`);
  });

  it('agrees with the reference on requests with damaged bytes (same results or the same error)', async () => {
    const r = rng(99);
    const base = request(Array.from({ length: 6 }, (_, n) => validRecord(r, n)));
    for (let k = 0; k < 1500; k++) {
      const body = Buffer.from(base);
      const flips = 1 + Math.floor(r() * 3);
      for (let f = 0; f < flips; f++) body[Math.floor(r() * body.length)] = Math.floor(r() * 256);
      const cut = r() < 0.2 ? body.subarray(0, Math.floor(r() * body.length)) : body;
      await same(cut);
    }
  });

  it('agrees with the reference on records with malformed fields', async () => {
    const r = rng(11);
    const tails: Buffer[] = [
      Buffer.from([0x09, 1, 2, 3]), // time_unix_nano cut short
      Buffer.from([0x59, 1]), // observed time cut short
      Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // severity as a long varint
      Buffer.from([0x10, 0xff, 0xff]), // severity varint cut short
      Buffer.from([0x38, 0x80]), // dropped count cut short
      Buffer.from([0x45, 1, 2]), // flags cut short
      Buffer.from([0x32, 0x05, 0x0a]), // an attribute longer than the record
      Buffer.from([0x32, 0x80, 0x80, 0x80, 0x80, 0x01]), // a length of 5 varint bytes
      Buffer.from([0x62, 0x03, 0x61]), // event name cut short
      Buffer.from([0x1a, 0x01, 0xff]), // severity text not UTF-8
      Buffer.from([0x4a, 0x02, 0x01, 0x02]), // trace id
      Buffer.from([0x7a, 0x00]), // unknown field 15
      Buffer.from([0x0b]), // a group start
      Buffer.from([0x2a, 0x00]), // a second, empty body
    ];
    const values: Value[] = [
      { rawAny: Buffer.from([0x0a, 0x05, 0x61]) }, // string longer than its value
      { rawAny: Buffer.from([0x0a, 0x01, 0x61, 0x0a, 0x01, 0x62]) }, // two strings
      { rawAny: Buffer.from([0x10, 0x02]) }, // bool 2
      { rawAny: Buffer.from([0x10]) }, // bool cut short
      { rawAny: Buffer.from([0x18, 0x80]) }, // int cut short
      { rawAny: Buffer.from([0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]) }, // 11-byte varint
      { rawAny: Buffer.from([0x21, 1, 2, 3, 4, 5, 6, 7]) }, // double cut short
      { rawAny: Buffer.from([0x2a, 0x03, 0x0a, 0x05, 0x0a]) }, // array item longer than the array
      { rawAny: Buffer.from([0x2a, 0x02, 0x0a, 0x00]) }, // an empty item
      { rawAny: Buffer.from([0x2a, 0x04, 0x0a, 0x02, 0x10, 0x01]) }, // a bool item
      { rawAny: Buffer.from([0x42, 0x00]) }, // unknown field 8
      { rawAny: Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x00]) }, // a length of 5 varint bytes
    ];
    const variants: Rec[] = [];
    for (let kind = 0; kind < 6; kind++) {
      const valid = validRecord(r, kind);
      for (const rawTail of tails) variants.push({ ...valid, rawTail });
      for (let i = 0; i < valid.attributes.length; i += 3) {
        for (const v of values) {
          const attributes = [...valid.attributes];
          attributes[i] = [attributes[i]![0], v];
          variants.push({ ...valid, attributes });
        }
      }
      for (const v of values) variants.push({ ...valid, body: v });
    }
    // A record that is not an audit event is read just as strictly (the decoder refuses it as well).
    for (const rawTail of tails) variants.push({ ...validRecord(r, 1), eventName: 'http.request', rawTail });
    for (const v of values) variants.push({ eventName: 'http.request', attributes: [['x', v]] });
    // One malformed record per request (a malformed one refuses the whole request), between valid
    // ones: its fields must not be read past its end.
    for (const v of variants) await same(request([validRecord(r, 0), v, validRecord(r, 3)]));
  });

  it('leaves records with invalid UTF-8 anywhere, or varints past 32 bits, to the reference (a stricter decoder may refuse them)', async () => {
    const r = rng(12);
    const bad = Buffer.from([0x61, 0xff]);
    const records: Rec[] = [
      { ...validRecord(r, 0), severityText: 'x' },
      { ...validRecord(r, 0), rawTail: len(3, bad) },
      { ...validRecord(r, 0), attributes: [...validRecord(r, 0).attributes, ['x.other', s(bad)]] },
      { ...validRecord(r, 0), attributes: [...validRecord(r, 0).attributes, ['x.list', { a: [s(bad)] }]] },
      { ...validRecord(r, 1), eventName: Buffer.concat([Buffer.from('audit.data_access'), bad]) },
      { eventName: Buffer.concat([Buffer.from('http.'), bad]), attributes: [] },
      { eventName: 'http.request', attributes: [['x', s(bad)]] },
      { eventName: 'http.request', severityText: 'x', rawTail: len(3, bad), attributes: [] },
      // A severity number from 2^32 on (5 varint bytes): a decoder may refuse it.
      { ...validRecord(r, 0), rawTail: Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x10]) },
    ];
    for (const [i, record] of records.entries()) {
      const body = request([record]);
      await same(body);
      const scanned = scanRequest(body, DEFAULT_DECODE_LIMITS, DEFAULT_RECORD_LIMITS, RECEIVED);
      assert.equal(scanned.referenceRecords, i === 0 ? 0 : 1, `record ${i}`);
    }
  });

  it('agrees with the reference on records with many entries of one kind', async () => {
    const r = rng(13);
    const valid = validRecord(r, 1);
    for (const n of [31, 32, 33, 40]) {
      const customs: [string, Value][] = Array.from({ length: n }, (_, i) => [`audit.custom.k${i}`, s(`v${i}`)]);
      const ids: [string, Value][] = Array.from({ length: n }, (_, i) => [`audit.object.id.k${i}`, s(`v${i}`)]);
      const names = Array.from({ length: n }, (_, i) => `a${i}`);
      const entries: [string, Value][] = names.map((name) => [`audit.attribute.${name}.successful`, { b: true }]);
      await same(request([{ ...valid, attributes: [...valid.attributes, ...customs] }]));
      await same(request([{ ...valid, attributes: [...valid.attributes, ...ids] }]));
      const withNames = valid.attributes.filter(([k]) => !String(k).startsWith('audit.attribute.'));
      await same(
        request([{ ...valid, attributes: [...withNames, ['audit.attribute.names', arr(...names)], ...entries] }]),
      );
    }
  });

  it('refuses over-limit requests with the decoder’s errors', async () => {
    const r = rng(5);
    const body = request(Array.from({ length: 20 }, (_, n) => validRecord(r, n)));
    await same(body, { ...DEFAULT_DECODE_LIMITS, maxRecords: 10 });
    const many = request([
      { ...validRecord(r, 1), attributes: Array.from({ length: 300 }, (_, i) => [`x.${i}`, s('v')]) },
    ]);
    await same(many, { ...DEFAULT_DECODE_LIMITS, maxAttributes: 50 });
    const deep = request([
      { ...validRecord(r, 2), attributes: [['x', { kv: [['a', { kv: [['b', { kv: [['c', s('d')]] }]] }]] }]] },
    ]);
    await same(deep, { ...DEFAULT_DECODE_LIMITS, maxDepth: 2 });
    const deepOther = request([
      validRecord(r, 0),
      { eventName: 'http.request', attributes: [['x', { kv: [['a', { kv: [['b', { kv: [['c', s('d')]] }]] }]] }]] },
    ]);
    await same(deepOther, { ...DEFAULT_DECODE_LIMITS, maxDepth: 2 });
    // Arrays (audit.attribute.names) are one level deep: refused where no nesting is allowed.
    await same(body, { ...DEFAULT_DECODE_LIMITS, maxDepth: 0 });
  });
});

describe('protobuf fast path: attribute keys', () => {
  it('knows every attribute key the semantic conventions name (a key it did not know would be ignored)', () => {
    const memo = new KeyMemo();
    const meaning = (key: string): Key => {
      const bytes = Buffer.from(key);
      return memo.infoAt(0, bytes, 0, bytes.length).key;
    };
    const keys = [...Object.values(Attr), ...Object.values(StructuredAttr), ...Object.values(SplunkAttr)];
    for (const key of keys) {
      const example = key === Attr.AttributePrefix ? `${key}x.old` : key.endsWith('.') ? `${key}x` : key;
      assert.notEqual(meaning(example), Key.Other, example);
    }
    assert.equal(meaning('service.name'), Key.Other);
    assert.equal(meaning('audit.unknown'), Key.Slow);
  });
});
