import type { DecodeLimits, DecodeMeter } from '../model/limits.js';
import { OtlpDecodeError, OtlpLimitError } from './errors.js';

/**
 * What decoding a request is estimated to cost in memory, in bytes, beyond the strings (which the
 * receiver charges by the body's size): per log record (the record, its body value, what validating
 * and storing it allocates) and per attribute, array or kvlist element (its object, slot and what
 * a dead letter of it allocates). Upper bounds measured on Node 20 (see the receiver README).
 */
const DECODE_COST = Object.freeze({ perRecord: 1024, perElement: 256 });

export type { DecodeMeter };

/**
 * Hard cap on the attributes of one record, resource or scope and on the elements of one array or
 * kvlist value, enforced while decoding.
 */
// 4× + 64 leaves ordinary over-limit records to the pipeline's per-record rejection; only absurd counts refuse the request.
export function maxElements(limits: DecodeLimits): number {
  return 4 * limits.maxAttributes + 64;
}

/**
 * Hard cap on the ResourceLogs, and separately on the ScopeLogs, of one request: each holds at least
 * one record unless empty, and empty ones would otherwise be free to send (2 bytes each in protobuf).
 */
export function maxContainers(limits: DecodeLimits): number {
  return limits.maxRecords + 64;
}

export function tooManyRecords(limits: DecodeLimits): OtlpLimitError {
  return new OtlpLimitError(
    `the request has more than ${limits.maxRecords} log records; send them in smaller requests`,
  );
}

export function tooManyContainers(limits: DecodeLimits, what: 'ResourceLogs' | 'ScopeLogs'): OtlpLimitError {
  return new OtlpLimitError(
    `the request has more than ${maxContainers(limits)} ${what} (max_records_per_request ${limits.maxRecords} + 64); send them in smaller requests`,
  );
}

export function tooManyElements(limits: DecodeLimits, what: string): OtlpLimitError {
  return new OtlpLimitError(
    `${what} has more than ${maxElements(limits)} entries (4 × max_attributes_per_record ${limits.maxAttributes} + 64); the request is refused`,
  );
}

export function tooDeep(limits: DecodeLimits): OtlpLimitError {
  return new OtlpLimitError(`AnyValue nesting deeper than ${limits.maxDepth} levels`);
}

/**
 * Request-wide counts for one decoding, checked as items are read, so that a request over a limit
 * is refused as soon as it passes it rather than after everything was built.
 */
export class DecodeState {
  readonly maxElements: number;
  readonly maxContainers: number;
  private records = 0;
  private resources = 0;
  private scopes = 0;
  private readonly meter: DecodeMeter | undefined;

  constructor(
    readonly limits: DecodeLimits,
    meter?: DecodeMeter,
  ) {
    this.maxElements = maxElements(limits);
    this.maxContainers = maxContainers(limits);
    this.meter = meter;
  }

  addRecords(n: number): void {
    this.records += n;
    if (this.records > this.limits.maxRecords) throw tooManyRecords(this.limits);
    this.charge(n * DECODE_COST.perRecord);
  }

  /** `n` attributes, array or kvlist elements are about to be decoded. */
  addElements(n: number): void {
    this.charge(n * DECODE_COST.perElement);
  }

  private charge(bytes: number): void {
    this.meter?.charge(bytes);
  }

  addResourceLogs(n: number): void {
    this.resources += n;
    if (this.resources > this.maxContainers) throw tooManyContainers(this.limits, 'ResourceLogs');
    this.charge(n * DECODE_COST.perElement);
  }

  addScopeLogs(n: number): void {
    this.scopes += n;
    if (this.scopes > this.maxContainers) throw tooManyContainers(this.limits, 'ScopeLogs');
    this.charge(n * DECODE_COST.perElement);
  }
}

/**
 * Runs a decoder: a RangeError out of it (the stack, on input that slipped past the depth limits)
 * is the request's fault, not a storage failure, so it becomes an {@link OtlpDecodeError} (400).
 */
export function decoding<T>(decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof RangeError)
      throw new OtlpDecodeError(`cannot decode the request: ${err.message}`, { cause: err });
    throw err;
  }
}
