/** What one request and each record in it may hold; past a limit the request (or the record) is refused with the reason. */
export interface RequestLimits {
  readonly maxRecordsPerRequest: number;
  readonly maxAttributesPerRecord: number;
  /** Longest string attribute value or body, in characters. */
  readonly maxAttributeValueLength: number;
  /** Deepest nesting of array/kvlist values. */
  readonly maxNestingDepth: number;
  /** Largest decompressed/compressed size ratio of a body. */
  readonly maxDecompressionRatio: number;
}

/** The defaults (the otlp receiver's `limits` in the configuration reference). */
export const DEFAULT_REQUEST_LIMITS: RequestLimits = Object.freeze({
  maxRecordsPerRequest: 10_000,
  maxAttributesPerRecord: 512,
  maxAttributeValueLength: 65_536,
  maxNestingDepth: 16,
  maxDecompressionRatio: 100,
});

/** Limits the decoders apply while decoding, so hostile input cannot exhaust memory or the stack. */
export interface DecodeLimits {
  /** Maximum nesting of AnyValue arrays / kvlists. */
  readonly maxDepth: number;
  /** Maximum log records in one request. */
  readonly maxRecords: number;
  /**
   * The configured `max_attributes_per_record`. The pipeline rejects a record over it on its own
   * (partial success); the decoders refuse the whole request only far beyond it.
   */
  readonly maxAttributes: number;
}

/** Limits the pipeline checks on each record (the request-level ones are enforced while decoding). */
export interface RecordLimits {
  readonly maxAttributes: number;
  /** Longest string value (attribute, nested value or body), in characters. */
  readonly maxValueLength: number;
}

export function decodeLimitsOf(limits: RequestLimits): DecodeLimits {
  return {
    maxDepth: limits.maxNestingDepth,
    maxRecords: limits.maxRecordsPerRequest,
    maxAttributes: limits.maxAttributesPerRecord,
  };
}

/** What the decoders enforce when a caller gives no limits: the defaults. */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = Object.freeze(decodeLimitsOf(DEFAULT_REQUEST_LIMITS));

export function recordLimitsOf(limits: RequestLimits): RecordLimits {
  return { maxAttributes: limits.maxAttributesPerRecord, maxValueLength: limits.maxAttributeValueLength };
}

/** The most permissive of several limit sets (for re-validating records any of the receivers could have taken). */
export function widestLimits(all: readonly RequestLimits[]): RequestLimits {
  if (all.length === 0) return DEFAULT_REQUEST_LIMITS;
  const widest = (key: keyof RequestLimits) => Math.max(...all.map((l) => l[key]));
  return {
    maxRecordsPerRequest: widest('maxRecordsPerRequest'),
    maxAttributesPerRecord: widest('maxAttributesPerRecord'),
    maxAttributeValueLength: widest('maxAttributeValueLength'),
    maxNestingDepth: widest('maxNestingDepth'),
    maxDecompressionRatio: widest('maxDecompressionRatio'),
  };
}

/** What the pipeline checks when a caller gives no limits: the defaults. */
export const DEFAULT_RECORD_LIMITS: RecordLimits = Object.freeze(recordLimitsOf(DEFAULT_REQUEST_LIMITS));

/**
 * Meters a decoding's estimated memory as records and elements are read: `charge` throws (a memory
 * refusal) as soon as the estimate is more than the request may take, before the decoder builds more.
 */
export interface DecodeMeter {
  charge(bytes: number): void;
  /** The estimate so far. */
  readonly charged: number;
  /** Sets the estimate back to `charged` (a decoding that starts over; what was taken stays held and is used first). */
  rewind(charged: number): void;
}
