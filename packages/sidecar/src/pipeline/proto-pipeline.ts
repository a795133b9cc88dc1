import { formatSapTime } from '@otel-audit/semconv';
import type { DeadLetterWriter } from '../model/dead-letter.js';
import { RECEIVER_DEAD_LETTER_ID } from '../model/dead-letter.js';
import type { SplunkMetadata } from '../model/audit-record.js';
import type { ConsumeResult } from '../model/consume.js';
import type { DecodeLimits, DecodeMeter, RecordLimits } from '../model/limits.js';
import { MemoryBudgetTooSmallError, MemoryBusyError } from '../model/memory-budget.js';
import type { InstrumentationScope } from '../model/otlp-logs.js';
import { spoolInputOf, type SpoolInput } from '../model/spooled-record.js';
import { maxContainers } from '../otlp/decode-limits.js';
import { decodeLogRecordAt, decodeLogsRequestProto, decodeResourceAt, decodeScopeAt } from '../otlp/decode-proto.js';
import { JsonWriter } from './fast/json-writer.js';
import { isAuditEventName, passes, planOf, writeLocalRecord } from './fast/local-record-writer.js';
import { F, lengthEnd, MAX_ATTRIBUTES, readLength, RecordScan, validUtf8 } from './fast/record-scan.js';
import { mapRecord, metadataTooLong, RecordOutcomes, ResourceContext, type AuditPipeline } from './pipeline.js';

/** A request read and mapped, its records not yet stored. */
export interface ScannedRequest {
  /** Log records in the request. */
  readonly received: number;
  /** The accepted records in request order, in spool form. */
  readonly inputs: readonly SpoolInput[];
  readonly outcomes: RecordOutcomes;
  /** Records the fast path left to the reference decoder and mapping. */
  readonly referenceRecords: number;
}

/** The request is not one the fast path reads itself: the reference decoder and pipeline take it whole. */
class NotForFastPath extends Error {
  override readonly name = 'NotForFastPath';
}
const NOT_FOR_FAST_PATH = new NotForFastPath('left to the reference decoder');

/**
 * Where the protobuf path puts accepted records (already in spool form); resolves once they are
 * durable. The inputs' JSON bytes are the caller's again once the promise settles (it reuses their
 * buffer): whatever the sink keeps longer, it copies.
 */
export interface SpoolInputSink {
  writeInputs(inputs: readonly SpoolInput[]): Promise<void>;
}

/** A request decoded and mapped; `store` writes its records and dead letters and resolves with what became of them. */
export interface PreparedRequest {
  /** Log records in the request. */
  readonly received: number;
  store(): Promise<ConsumeResult>;
}

/**
 * decode → validate/map → sink for binary OTLP requests: the fast path where it applies, the
 * reference decoder and {@link AuditPipeline} for the whole request where it does not.
 */
export class ProtoPipeline {
  /** Output buffers of requests that are stored, for the next requests (fewer large allocations, less GC). */
  private readonly spare: Buffer[] = [];
  /** The scan's scratch state, reused from request to request (a scan runs start to end synchronously). */
  private scratch: RecordScan | undefined;
  /** Requests waiting for their turn to read a slice (see {@link prepare}), oldest request first. */
  private readonly waiting: { readonly request: number; readonly go: () => void }[] = [];
  private turnScheduled = false;
  private requests = 0;

  constructor(
    private readonly sink: SpoolInputSink,
    private readonly deadLetters: DeadLetterWriter,
    private readonly reference: AuditPipeline,
  ) {}

  /**
   * Decodes and maps; throws the decoder's errors (the request is malformed or over a limit) before
   * anything is stored. Requests are read a slice of {@link SLICE_RECORDS} records per turn of the
   * event loop: reading 500 records takes about a millisecond, and when many requests arrive
   * together, reading them all in one go would hold up the I/O callbacks in between (above all the
   * exporters', which then fall behind the intake until the spool is full).
   */
  async prepare(
    body: Buffer,
    decodeLimits: DecodeLimits,
    limits: RecordLimits,
    meter?: DecodeMeter,
    receivedAtMs: number = Date.now(),
  ): Promise<PreparedRequest> {
    const request = this.requests++;
    await this.turn(request);
    const out = this.writer(body.length);
    const steps = new RequestScan(
      body,
      decodeLimits,
      limits,
      receivedAtMs,
      out,
      this.recordScan(decodeLimits, limits),
      meter,
    ).run();
    const charged = meter?.charged ?? 0;
    for (;;) {
      let step: IteratorResult<void, ScannedRequest>;
      try {
        step = steps.next();
      } catch (err) {
        this.recycle(out.buf);
        // Refused for want of memory: decoding it all over would not fit either.
        if (err instanceof MemoryBusyError || err instanceof MemoryBudgetTooSmallError) throw err;
        // Not a request the fast path reads (or one the decoder refuses): the reference decides,
        // metered from where this request started (what the scan charged is not counted twice).
        meter?.rewind(charged);
        const request = decodeLogsRequestProto(body, decodeLimits, meter);
        let received = 0;
        for (const rl of request.resourceLogs) for (const sl of rl.scopeLogs) received += sl.logRecords.length;
        return { received, store: () => this.reference.process(request, limits, receivedAtMs) };
      }
      if (step.done === true) {
        const scanned = step.value;
        return { received: scanned.received, store: () => this.store(scanned, out) };
      }
      await this.turn(request);
    }
  }

  /**
   * Resolves when it is the turn of `request`: one slice per turn of the event loop, of the oldest
   * request waiting (a request read in slices still finishes before the next one starts, so its
   * answer is not held up by requests that came after it).
   */
  private turn(request: number): Promise<void> {
    return new Promise((go) => {
      const waiting = this.waiting;
      let at = waiting.length;
      while (at > 0 && waiting[at - 1]!.request > request) at--;
      waiting.splice(at, 0, { request, go });
      if (!this.turnScheduled) {
        this.turnScheduled = true;
        setImmediate(() => this.nextTurn());
      }
    });
  }

  private nextTurn(): void {
    // The caller resolved here runs before the next immediate, which comes after the next poll for I/O.
    this.waiting.shift()?.go();
    this.turnScheduled = this.waiting.length > 0;
    if (this.turnScheduled) setImmediate(() => this.nextTurn());
  }

  private writer(bodyBytes: number): JsonWriter {
    const size = outputSize(bodyBytes);
    const spare = this.spare.pop();
    return new JsonWriter(spare !== undefined && spare.length >= size ? spare : Buffer.allocUnsafe(size));
  }

  private recycle(buf: Buffer): void {
    if (buf.length <= MAX_SPARE_BYTES && this.spare.length < MAX_SPARE_BUFFERS) this.spare.push(buf);
  }

  private recordScan(decodeLimits: DecodeLimits, limits: RecordLimits): RecordScan {
    const s = this.scratch;
    if (s !== undefined && s.fits(decodeLimits, limits)) return s;
    return (this.scratch = newRecordScan(decodeLimits, limits));
  }

  private async store(scanned: ScannedRequest, out: JsonWriter): Promise<ConsumeResult> {
    const { inputs, outcomes } = scanned;
    // As on the reference path: accepted records first, then the dead letters.
    try {
      if (inputs.length > 0) await this.sink.writeInputs(inputs);
    } finally {
      this.recycle(out.buf);
    }
    await this.deadLetters.write(RECEIVER_DEAD_LETTER_ID, outcomes.letters);
    return {
      received: outcomes.received,
      accepted: inputs.length,
      ignored: outcomes.ignored,
      rejected: outcomes.rejected,
    };
  }
}

const MAX_SPARE_BUFFERS = 4;
/** Records read in one turn of the event loop (about a quarter of a millisecond). */
const SLICE_RECORDS = 128;
const MAX_SPARE_BYTES = 4 * 1024 * 1024;

/** An output buffer for the local records of a request of `bodyBytes` (they are somewhat larger than the protobuf). */
function outputSize(bodyBytes: number): number {
  return Math.ceil(bodyBytes * 1.5) + 1024;
}

/**
 * The protobuf fast path: one pass over a binary ExportLogsServiceRequest that validates each audit
 * record and writes its local record JSON straight from the request bytes (record-scan.ts,
 * local-record-writer.ts), without decoding it into objects. Records it does not take on itself
 * (other encodings, structured attributes, invalid records, ...) are decoded and mapped one by one
 * by the reference decoder and `mapRecord`, so what is accepted, rejected, reported and
 * dead-lettered is the same as on the reference path. Anything unusual outside the records throws
 * {@link NotForFastPath}: the caller then decodes the whole request with the reference decoder,
 * which refuses it with its own error where it is malformed.
 */
export function scanRequest(
  body: Buffer,
  decodeLimits: DecodeLimits,
  limits: RecordLimits,
  receivedAtMs: number,
): ScannedRequest {
  const steps = new RequestScan(
    body,
    decodeLimits,
    limits,
    receivedAtMs,
    new JsonWriter(Buffer.allocUnsafe(outputSize(body.length))),
    newRecordScan(decodeLimits, limits),
  ).run();
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

function newRecordScan(decodeLimits: DecodeLimits, limits: RecordLimits): RecordScan {
  return new RecordScan(
    limits.maxValueLength,
    Math.min(limits.maxAttributes, MAX_ATTRIBUTES),
    decodeLimits.maxDepth >= 1,
  );
}

class RequestScan {
  /** Accepted records in order: written by the fast path (their JSON in `out`), or by the reference. */
  private readonly accepted: SpoolInput[] = [];
  private readonly outcomes = new RecordOutcomes((record) =>
    this.accepted.push(spoolInputOf(record, this.receivedAtMs)),
  );
  private readonly receiveTime: string;
  private readonly maxContainers: number;
  private referenceRecords = 0;
  private resources = 0;
  private scopes = 0;
  // The resource and scope of the records being read.
  private resource!: ResourceContext;
  private resourceJson: Buffer | undefined;
  private resourceSplunk: SplunkMetadata | undefined;
  private scopeStart = -1;
  private scopeEnd = -1;
  private scope: InstrumentationScope | undefined;

  constructor(
    private readonly body: Buffer,
    private readonly decodeLimits: DecodeLimits,
    private readonly limits: RecordLimits,
    private readonly receivedAtMs: number,
    private readonly out: JsonWriter,
    private readonly scan: RecordScan,
    /** Counts what the records decoded into objects (those left to the reference) cost. */
    private readonly meter?: DecodeMeter,
  ) {
    this.receiveTime = formatSapTime(receivedAtMs);
    this.maxContainers = maxContainers(decodeLimits);
  }

  /** Reads the request, pausing (yielding) after every {@link SLICE_RECORDS} records. */
  *run(): Generator<void, ScannedRequest> {
    const body = this.body;
    const end = body.length;
    let pos = 0;
    while (pos < end) {
      // 1 resource_logs
      if (body[pos] !== 0x0a) throw NOT_FOR_FAST_PATH;
      const fieldEnd = this.lengthDelimited(pos + 1, end);
      if (++this.resources > this.maxContainers) throw NOT_FOR_FAST_PATH;
      yield* this.resourceLogs(lengthEnd(), fieldEnd);
      pos = fieldEnd;
    }
    return {
      received: this.outcomes.received,
      inputs: this.accepted,
      outcomes: this.outcomes,
      referenceRecords: this.referenceRecords,
    };
  }

  /** The end of the length-delimited field whose length is at `pos`. */
  private lengthDelimited(pos: number, end: number): number {
    const len = readLength(this.body, pos, end);
    if (len < 0) throw NOT_FOR_FAST_PATH;
    const fieldEnd = lengthEnd() + len;
    if (fieldEnd > end) throw NOT_FOR_FAST_PATH;
    return fieldEnd;
  }

  private *resourceLogs(start: number, end: number): Generator<void, void> {
    const body = this.body;
    // The resource first, wherever it is: every record needs it.
    let resourceStart = -1;
    let resourceEnd = -1;
    for (let pos = start; pos < end;) {
      const tag = body[pos]!;
      const fieldEnd = this.lengthDelimited(pos + 1, end);
      if (tag === 0x0a) {
        if (resourceStart >= 0) throw NOT_FOR_FAST_PATH;
        resourceStart = lengthEnd();
        resourceEnd = fieldEnd;
      } else if (tag === 0x1a) {
        if (!validUtf8(body, lengthEnd(), fieldEnd)) throw NOT_FOR_FAST_PATH;
      } else if (tag !== 0x12) throw NOT_FOR_FAST_PATH;
      pos = fieldEnd;
    }
    this.resource = new ResourceContext(
      resourceStart < 0 ? undefined : decodeResourceAt(body, resourceStart, resourceEnd, this.decodeLimits, this.meter),
    );
    this.resourceJson = undefined;
    this.resourceSplunk = undefined;
    for (let pos = start; pos < end;) {
      const tag = body[pos]!;
      const fieldEnd = this.lengthDelimited(pos + 1, end);
      if (tag === 0x12) {
        if (++this.scopes > this.maxContainers) throw NOT_FOR_FAST_PATH;
        yield* this.scopeLogs(lengthEnd(), fieldEnd);
      }
      pos = fieldEnd;
    }
  }

  private *scopeLogs(start: number, end: number): Generator<void, void> {
    const body = this.body;
    this.scopeStart = this.scopeEnd = -1;
    this.scope = undefined;
    for (let pos = start; pos < end;) {
      const tag = body[pos]!;
      const fieldEnd = this.lengthDelimited(pos + 1, end);
      if (tag === 0x0a) {
        if (this.scopeStart >= 0) throw NOT_FOR_FAST_PATH;
        this.scopeStart = lengthEnd();
        this.scopeEnd = fieldEnd;
      } else if (tag === 0x1a) {
        if (!validUtf8(body, lengthEnd(), fieldEnd)) throw NOT_FOR_FAST_PATH;
      } else if (tag !== 0x12) throw NOT_FOR_FAST_PATH;
      pos = fieldEnd;
    }
    // The scope is decoded only for a record that is dead-lettered; decoding it now checks it all the same.
    if (this.scopeStart >= 0)
      this.scope = decodeScopeAt(body, this.scopeStart, this.scopeEnd, this.decodeLimits, this.meter);
    for (let pos = start; pos < end;) {
      const tag = body[pos]!;
      const fieldEnd = this.lengthDelimited(pos + 1, end);
      if (tag === 0x12) {
        if (this.outcomes.received >= this.decodeLimits.maxRecords) throw NOT_FOR_FAST_PATH;
        this.record(this.outcomes.received++, lengthEnd(), fieldEnd);
        // Between records nothing of the record scan is needed any more: another request may use it.
        if (this.outcomes.received % SLICE_RECORDS === 0) yield;
      }
      pos = fieldEnd;
    }
  }

  private record(index: number, start: number, end: number): void {
    const body = this.body;
    const scan = this.scan;
    if (!scan.fields(body, start, end) || scan.eventEnd <= scan.eventStart) {
      this.reference(index, start, end);
      return;
    }
    const plan = planOf(body, scan.eventStart, scan.eventEnd);
    if (plan === undefined) {
      if (isAuditEventName(body, scan.eventStart, scan.eventEnd) || !scan.attributesOnly())
        this.reference(index, start, end);
      else this.outcomes.ignored++;
      return;
    }
    if (!scan.attributes(plan.keys) || this.splunkTooLong() || !passes(scan, plan)) {
      this.reference(index, start, end);
      return;
    }
    const out = this.out;
    const mark = out.pos;
    const eventTime = this.eventTime();
    this.resourceJson ??= Buffer.from(this.resource.resourceJson());
    if (!writeLocalRecord(out, scan, plan, eventTime, this.resourceJson)) {
      out.pos = mark;
      this.reference(index, start, end);
      return;
    }
    const str = scan.str;
    const subdomain = str[2 * F.TenantSubdomain]!;
    // Same fields in the same order as spoolInputOf (one object shape). The JSON is a view of the
    // bytes just written: should the buffer grow later, the old one keeps them.
    this.accepted.push({
      uuid: body.toString('latin1', str[2 * F.Uid], str[2 * F.Uid + 1]),
      eventName: plan.name,
      eventTime,
      receivedAt: this.receivedAtMs,
      tenantSubdomain: subdomain < 0 ? undefined : body.toString('latin1', subdomain, str[2 * F.TenantSubdomain + 1]),
      splunk: this.resourceSplunk!,
      targets: undefined,
      json: out.buf.subarray(mark, out.pos),
    });
  }

  /** The resource's Splunk metadata cannot be stored with its records (they are rejected). */
  private splunkTooLong(): boolean {
    if (this.resourceSplunk === undefined) {
      this.resourceSplunk = this.resource.splunkMetadata();
    }
    return metadataTooLong(this.resourceSplunk) !== undefined;
  }

  /** Epoch ms of time_unix_nano, else observed_time_unix_nano, else the receive time (exact: no doubles over 2^53). */
  private eventTime(): number {
    const s = this.scan;
    let lo = s.timeLo;
    let hi = s.timeHi;
    if (lo === 0 && hi === 0) {
      lo = s.observedLo;
      hi = s.observedHi;
      if (lo === 0 && hi === 0) return this.receivedAtMs;
    }
    // ns = hi * 2^32 + lo, and 2^32 = 4294 * 10^6 + 967296.
    return hi * 4294 + Math.floor((hi * 967296 + lo) / 1e6);
  }

  /** A record the fast path leaves to the reference decoder and mapping. */
  private reference(index: number, start: number, end: number): void {
    this.referenceRecords++;
    const record = decodeLogRecordAt(this.body, start, end, this.decodeLimits, this.meter);
    mapRecord(
      this.outcomes,
      index,
      record,
      this.resource,
      this.scope,
      this.limits,
      this.receivedAtMs,
      this.receiveTime,
    );
  }
}
