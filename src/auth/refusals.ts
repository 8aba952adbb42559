import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Principal } from '../domain/auth/roles.js';
import { checkFact, type FactData, factVersion } from '../domain/facts.js';
import { envelope } from '../runtime/envelope.js';
import type { EventData, EventStore } from '../stores/event-store/port.js';

export const ACCESS_REFUSALS_STREAM = 'access-refusals';
export type RefusalCode = FactData<'accessRefused'>['code'];

type Entry = FactData<'accessRefused'>;
const MAX_OPERATIONS = 20;
/** Aggregates held at once; past this, new sources fold into one `(many sources)` entry. */
const MAX_OPEN = 10_000;

/**
 * Records refusals as facts without letting a flood fill the log: an authenticated caller's
 * FORBIDDEN refusals one fact each (its own requests are rate-limited, so this is bounded), and
 * everything else (unauthenticated callers, rate-limit hits) aggregated per principal, source and code
 * over `intervalMs` into one fact with a count. Facts are written off the request path, in one append
 * per flush; totals per code are kept for the service's own metric series.
 */
export class RefusalRecorder {
  private readonly single: Entry[] = [];
  private readonly open = new Map<string, Entry>();
  private readonly totals = new Map<RefusalCode, number>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly events: EventStore,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** Counts by code since start: the source of `aul_access_refused_total`. */
  counts(): ReadonlyMap<RefusalCode, number> {
    return this.totals;
  }

  refused(caller: Principal, operation: string, reason: string, code?: RefusalCode): void {
    const kind: RefusalCode = code ?? (caller.role === null ? 'UNAUTHENTICATED' : 'FORBIDDEN');
    this.totals.set(kind, (this.totals.get(kind) ?? 0) + 1);
    const now = Date.now();
    if (kind === 'FORBIDDEN' && caller.role !== null) {
      this.single.push(this.entry(caller, kind, operation, reason, now));
      if (this.single.length >= 100) void this.flush();
      return;
    }
    const key = `${caller.id}|${caller.source}|${kind}`;
    const current = this.open.get(key);
    if (current) {
      const operations = current.operations.includes(operation)
        ? current.operations
        : current.operations.length < MAX_OPERATIONS
          ? [...current.operations, operation]
          : current.operations;
      this.open.set(key, { ...current, operations, count: current.count + 1, lastAt: now });
    } else if (this.open.size < MAX_OPEN) {
      this.open.set(key, this.entry(caller, kind, operation, reason, now));
    } else {
      this.refused({ ...caller, id: caller.id, source: '(many sources)' }, operation, reason, kind);
      this.totals.set(kind, (this.totals.get(kind) ?? 1) - 1);
    }
  }

  private entry(caller: Principal, code: RefusalCode, operation: string, reason: string, at: number): Entry {
    return {
      principal: caller.id.slice(0, 300),
      source: caller.source.slice(0, 100),
      code,
      operations: [operation.slice(0, 200)],
      reason: reason.slice(0, 500),
      count: 1,
      firstAt: at,
      lastAt: at,
    };
  }

  /** Writes what is held (in one append), after any flush in progress. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const entries = [...this.single.splice(0), ...this.open.values()];
      this.open.clear();
      if (entries.length === 0) return;
      const events: EventData[] = entries.map((entry) => {
        const id = randomUUID();
        return {
          id,
          type: 'accessRefused',
          data: checkFact('accessRefused', entry),
          metadata: envelope({ principal: entry.principal, schemaVersion: factVersion('accessRefused') }, id),
        };
      });
      try {
        await this.events.append(ACCESS_REFUSALS_STREAM, events);
      } catch (error) {
        // Kept for the next flush, up to a bound; past it the loss is counted in the log line.
        const kept = entries.slice(0, Math.max(0, MAX_OPEN - this.single.length));
        this.single.unshift(...kept);
        this.logger.warn(
          { err: error, refusals: entries.length, lost: entries.length - kept.length },
          'could not record refusals yet: kept for the next flush',
        );
      }
    });
    return this.flushing;
  }
}
