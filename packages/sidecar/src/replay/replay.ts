import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatIssues } from '@otel-audit/semconv';
import type { ReceiverFactory } from '../component.js';
import type { ServiceConfig } from '../config/load.js';
import { deadLetterFileName, type DeadLetterLine, type DeadLetterStore } from '../deadletter/dead-letter-store.js';
import type { AuditRecord } from '../model/audit-record.js';
import { RECEIVER_DEAD_LETTER_ID, spoolInputOfDeadLetter, type DeadLetter } from '../model/dead-letter.js';
import { decodeLimitsOf, recordLimitsOf, widestLimits, type RequestLimits } from '../model/limits.js';
import { spoolInputOf, type SpoolInput } from '../model/spooled-record.js';
import { decodeLogsRequestJson } from '../otlp/decode-json.js';
import { OtlpDecodeError } from '../otlp/errors.js';
import { AuditPipeline } from '../pipeline/pipeline.js';
import type { RecordStore } from '../pipeline/spool-sink.js';

/** Which dead letters to replay. */
export interface ReplayFilter {
  /** Only this component's dead letters (`receiver` or an exporter id). */
  readonly exporter?: string;
  /** Only dead letters whose reason matches this regular expression. */
  readonly reason?: string;
  /** Report what would be replayed without doing it. */
  readonly dryRun?: boolean;
}

export interface ReplayResult {
  /** Records put back into the spool, by component. */
  readonly replayed: Record<string, number>;
  /** Receiver dead letters that still fail validation (kept, with their current reason). */
  readonly stillInvalid: number;
  /** Dead letters of exporters that are no longer configured (kept). */
  readonly unknownExporter: number;
  readonly dryRun: boolean;
}

/** The limits replay re-validates under: the widest of the configured receivers' (the defaults if none says). */
export function replayLimits(
  config: ServiceConfig,
  registry: { readonly receivers: ReadonlyMap<string, ReceiverFactory> },
): RequestLimits {
  const limits: RequestLimits[] = [];
  for (const c of config.receivers) {
    const l = registry.receivers.get(c.type)?.requestLimits?.(c.config);
    if (l !== undefined) limits.push(l);
  }
  return widestLimits(limits);
}

/**
 * Re-sends dead letters after their cause is fixed. Exporter dead letters go back into the spool
 * for that exporter only; receiver dead letters are validated again — under `limits`, those of the
 * receivers as configured now — and, if they now pass, go to every exporter. Replayed lines leave
 * the dead-letter file only after the spool has them.
 */
export async function replayDeadLetters(
  store: DeadLetterStore,
  spool: RecordStore,
  exporterIds: readonly string[],
  limits: RequestLimits,
  filter: ReplayFilter,
): Promise<ReplayResult> {
  const reason = filter.reason === undefined ? undefined : new RegExp(filter.reason);
  const replayed: Record<string, number> = {};
  let stillInvalid = 0;
  let unknownExporter = 0;
  const byFile = new Map((await store.fileNames()).map((name) => [name, name]));
  const components = [RECEIVER_DEAD_LETTER_ID, ...exporterIds].filter((id) => byFile.has(deadLetterFileName(id)));
  for (const name of byFile.keys()) {
    if (!components.some((id) => deadLetterFileName(id) === name)) unknownExporter += await countLines(store, name);
  }

  for (const component of components) {
    if (filter.exporter !== undefined && filter.exporter !== component) continue;
    await store.rewrite(component, async (lines) => {
      const keep: DeadLetterLine[] = [];
      const inputs: SpoolInput[] = [];
      for (const line of lines) {
        const letter = line.letter;
        if (letter === undefined || (reason !== undefined && !reason.test(letter.reason))) {
          keep.push(line);
          continue;
        }
        if (component === RECEIVER_DEAD_LETTER_ID) {
          const revalidated = await revalidate(letter, limits);
          if (revalidated.accepted === undefined) {
            stillInvalid++;
            keep.push({
              letter: { ...letter, reason: revalidated.reason },
              raw: JSON.stringify({ ...letter, reason: revalidated.reason }),
            });
            continue;
          }
          inputs.push(spoolInputOf(revalidated.accepted, Date.now()));
        } else {
          inputs.push(spoolInputOfDeadLetter(letter, component));
        }
      }
      replayed[component] = inputs.length;
      if (filter.dryRun) return lines;
      if (inputs.length > 0) await spool.append(inputs);
      return keep;
    });
  }
  return { replayed, stillInvalid, unknownExporter, dryRun: filter.dryRun === true };
}

async function countLines(store: DeadLetterStore, fileName: string): Promise<number> {
  const text = await readFile(join(store.directory, fileName), 'utf8');
  return text.split('\n').filter((l) => l !== '').length;
}

/** A receiver dead letter run through validation again (the rules, the limits or the sidecar may have changed). */
async function revalidate(
  letter: DeadLetter,
  limits: RequestLimits,
): Promise<{ accepted?: AuditRecord; reason: string }> {
  const otlp = letter.otlp;
  if (otlp === undefined) return { reason: letter.reason };
  let request;
  try {
    request = decodeLogsRequestJson(
      JSON.stringify({
        resourceLogs: [{ resource: otlp.resource, scopeLogs: [{ scope: otlp.scope, logRecords: [otlp.logRecord] }] }],
      }),
      decodeLimitsOf(limits),
    );
  } catch (err) {
    if (err instanceof OtlpDecodeError) return { reason: err.message };
    throw err;
  }
  let accepted: AuditRecord | undefined;
  const pipeline = new AuditPipeline(
    { write: async (records) => void (accepted = records[0]) },
    { write: async () => {} },
  );
  const result = await pipeline.process(request, recordLimitsOf(limits));
  const reason = result.rejected.length > 0 ? formatIssues(result.rejected[0]!.issues) : letter.reason;
  return { accepted, reason };
}
