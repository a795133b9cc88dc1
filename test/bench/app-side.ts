import { performance } from 'node:perf_hooks';

/** What an application sees when it logs audit events. */
export interface AppSideResult {
  readonly events: number;
  readonly eventsPerSec: number;
  /** CPU time (user + system) of the application process per event, microseconds. */
  readonly cpuMicrosPerEvent: number;
  /** Wall time per call as the application waits for it, milliseconds (median; null for fire-and-forget calls). */
  readonly p50Ms: number | null;
  readonly failures: number;
}

/** Calls `fn` with `concurrency` calls in flight for `seconds`; measures throughput and CPU. */
export async function measureAppSide(
  seconds: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<AppSideResult> {
  await Promise.all(Array.from({ length: Math.min(concurrency, 20) }, (_, i) => fn(i))); // warm-up
  const latencies: number[] = [];
  let events = 0;
  let failures = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const started = performance.now();
        try {
          await fn(events);
          events++;
          latencies.push(performance.now() - started);
        } catch {
          failures++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  return {
    events,
    eventsPerSec: events / elapsed,
    cpuMicrosPerEvent: (cpu.user + cpu.system) / Math.max(1, events),
    p50Ms: latencies[Math.floor(latencies.length / 2)] ?? null,
    failures,
  };
}

/** Synchronous calls (fire-and-forget APIs): events per second and CPU per call. */
export function measureSync(events: number, fn: (i: number) => void): AppSideResult {
  for (let i = 0; i < 1000; i++) fn(i); // warm-up
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < events; i++) fn(i);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    events,
    eventsPerSec: events / elapsed,
    cpuMicrosPerEvent: (cpu.user + cpu.system) / events,
    p50Ms: null,
    failures: 0,
  };
}
