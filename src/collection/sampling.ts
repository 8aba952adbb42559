import type { Logger } from 'pino';
import type { AgentEvent } from '../domain/agent/events.js';
import type { SeriesDef } from '../domain/metrics/kinds.js';

export type Sampler = () => void | Promise<void>;

export interface Watch {
  readonly series: { readonly handle: number; readonly def: SeriesDef };
  readonly above?: number;
  readonly below?: number;
  /** Interval of the periodic samplers while the watched value is out of bounds. */
  readonly fastIntervalMs: number;
}

interface Entry {
  readonly sampler: Sampler;
  readonly intervalMs: number;
  timer: NodeJS.Timeout | null;
}

/**
 * The periodic and threshold modes of an agent: samplers run on their interval, faster while a watched
 * series is out of its bounds. A crossing flushes at once (`onCrossing`) and is a lifecycle fact.
 */
export function createSampling(options: {
  logger: Logger;
  record: (event: AgentEvent) => void;
  onCrossing: () => void;
  onSamplerError: (error: unknown) => void;
}) {
  const samplers = new Set<Entry>();
  const watches = new Set<Watch & { active: boolean }>();
  let accelerated = false;

  function schedule(entry: Entry): void {
    if (entry.timer) clearInterval(entry.timer);
    const fast = accelerated
      ? Math.min(...[...watches].filter((w) => w.active).map((w) => w.fastIntervalMs))
      : Number.POSITIVE_INFINITY;
    entry.timer = setInterval(
      () => {
        Promise.resolve()
          .then(entry.sampler)
          .catch((error: unknown) => {
            options.onSamplerError(error);
            options.logger.warn({ err: error }, 'sampler failed');
          });
      },
      Math.min(entry.intervalMs, fast),
    );
    entry.timer.unref();
  }

  return {
    get accelerated(): boolean {
      return accelerated;
    },
    get watching(): boolean {
      return watches.size > 0;
    },

    add(sampler: Sampler, intervalMs: number): () => void {
      if (!Number.isFinite(intervalMs) || intervalMs < 1)
        throw new Error('sampling interval must be at least 1 ms');
      const entry: Entry = { sampler, intervalMs, timer: null };
      samplers.add(entry);
      schedule(entry);
      return () => {
        if (entry.timer) clearInterval(entry.timer);
        samplers.delete(entry);
      };
    },

    watch(watch: Watch): () => void {
      if (watch.above === undefined && watch.below === undefined)
        throw new Error('a watch needs a bound: above or below');
      const entry = { ...watch, active: false };
      watches.add(entry);
      return () => {
        watches.delete(entry);
      };
    },

    /** Checks a recorded value against the watches of its series. */
    check(handle: number, value: number, timestamp: number): void {
      for (const w of watches) {
        if (w.series.handle !== handle) continue;
        const direction =
          w.above !== undefined && value > w.above
            ? 'above'
            : w.below !== undefined && value < w.below
              ? 'below'
              : null;
        if (direction && !w.active) {
          w.active = true;
          accelerated = true;
          for (const entry of samplers) schedule(entry);
          options.onCrossing();
          options.record({
            type: 'samplingAccelerated',
            series: w.series.def.name,
            value,
            bound: direction === 'above' ? w.above! : w.below!,
            direction,
            intervalMs: w.fastIntervalMs,
            at: Math.round(timestamp),
          });
        } else if (!direction && w.active) {
          w.active = false;
          accelerated = [...watches].some((x) => x.active);
          for (const entry of samplers) schedule(entry);
          options.record({
            type: 'samplingRestored',
            series: w.series.def.name,
            value,
            at: Math.round(timestamp),
          });
        }
      }
    },

    stop(): void {
      for (const entry of samplers) if (entry.timer) clearInterval(entry.timer);
      samplers.clear();
    },
  };
}
