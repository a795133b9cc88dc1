import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { decodeLogsRequestProto } from '../../src/otlp/decode-proto.js';
import { decoding } from '../../src/otlp/decode-limits.js';
import { OtlpLimitError } from '../../src/otlp/errors.js';
import { toReceiverError } from '../../src/receivers/otlp/errors.js';
import { createLogger } from '../../src/telemetry/logger.js';

const logger = createLogger('silent');

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected an error');
}

describe('toReceiverError', () => {
  it('answers 400 / INVALID_ARGUMENT, without a retry delay, to deeply nested protobuf groups', () => {
    const e = toReceiverError(
      thrown(() => decodeLogsRequestProto(Buffer.alloc(100_000, 0x7b))),
      logger,
    );
    assert.equal(e.kind, 'bad-request');
    assert.equal(e.httpStatus, 400);
    assert.equal(e.grpcCode, status.INVALID_ARGUMENT);
    assert.equal(e.retryAfterMs, undefined);
  });

  it('answers 400 to a RangeError raised while decoding', () => {
    const e = toReceiverError(
      thrown(() =>
        decoding(() => {
          throw new RangeError('Maximum call stack size exceeded');
        }),
      ),
      logger,
    );
    assert.equal(e.httpStatus, 400);
    assert.equal(e.grpcCode, status.INVALID_ARGUMENT);
  });

  it('keeps a RangeError from elsewhere (storage) a retryable 503 / UNAVAILABLE', () => {
    const e = toReceiverError(new RangeError('Array buffer allocation failed'), logger);
    assert.equal(e.kind, 'unavailable');
    assert.equal(e.httpStatus, 503);
    assert.equal(e.grpcCode, status.UNAVAILABLE);
    assert.ok(e.retryAfterMs !== undefined);
  });

  it('answers 413 / RESOURCE_EXHAUSTED to request limits', () => {
    const e = toReceiverError(new OtlpLimitError('the request has more than 5 log records'), logger);
    assert.equal(e.httpStatus, 413);
    assert.equal(e.grpcCode, status.RESOURCE_EXHAUSTED);
    assert.equal(e.retryAfterMs, undefined);
  });
});
