import type { Logger } from 'pino';
import type { EventStore, Position, Subscription } from '../stores/event-store/port.js';
import { afterOf, createFeed, type Member, type SharedTail, START, type TailOptions } from './log-feed.js';

export type { TailOptions } from './log-feed.js';

export interface LogHubOptions {
  readonly events: EventStore;
  readonly logger: Logger;
  /**
   * Events one feed may hold from the shared tail, matched but not yet taken by its client (default
   * 1,000). A feed past this is moved back to reading the log on its own, from where it is.
   */
  readonly maxBuffered?: number;
  /** Events a feed reads at a time while it catches up on its own (default 500). */
  readonly pageSize?: number;
}

export interface LogHubStats {
  /** Feeds open now. */
  readonly feeds: number;
  /** Of those, the ones fed by the shared tail (the others read the log on their own, catching up). */
  readonly live: number;
  /** Store subscriptions the hub has opened since it was created. */
  readonly storeSubscriptions: number;
  /** Times a feed fell too far behind the shared tail and went back to reading on its own. */
  readonly fallbacks: number;
  /** The last position the shared tail has handed out; null while it is not running. */
  readonly position: Position | null;
}

/** One tail of the log per service instance, shared by every live subscription. */
export interface LogHub {
  /** A feed of the log after `after`, in log order, each event once; `return()` ends it at once. */
  tail<T>(options: TailOptions<T>): AsyncIterableIterator<T>;
  stats(): LogHubStats;
  /** Ends every feed and the shared tail. */
  close(): Promise<void>;
}

interface Run {
  readonly subscription: Subscription;
  /** The last position handed out (or where the run started): members get every event after it. */
  position: bigint;
  stopping: boolean;
  done: Promise<void>;
}

/**
 * The shared tail of the log behind every live subscription of this instance: one store subscription,
 * started when the first feed needs it and stopped when the last one leaves, fanned out to each feed
 * by its filter, so a thousand subscribers cost one read of the log.
 *
 * A feed resuming from an older position first reads the log on its own, a page at a time as its
 * client takes them, and joins the shared tail only once it has reached it. The hand-over is exact:
 * at the moment a feed joins (synchronously, between two events of the shared tail) it records the
 * tail's position P; from then on it is handed every event after P, and it reads on its own only up
 * to P. What it holds from the shared tail while it finishes that read waits in its buffer; anything
 * seen twice is dropped by position, so nothing is missed and nothing repeats.
 *
 * The shared tail never waits for a feed. A feed whose client is slow buffers up to `maxBuffered`
 * events; past that it drops what it holds (none of it was delivered) and goes back to reading the
 * log on its own from the last event it delivered: the log is the buffer, and nothing is lost.
 */
export function createLogHub(options: LogHubOptions): LogHub {
  const { events, logger } = options;
  const maxBuffered = options.maxBuffered ?? 1000;
  const pageSize = options.pageSize ?? 500;
  /** Members by the categories their filters take ('' for members that take every category). */
  const members = new Map<string, Set<Member>>();
  const feeds = new Set<{ close(): Promise<void> }>();
  let run: Run | null = null;
  let starting: Promise<Run> | null = null;
  let closed = false;
  let storeSubscriptions = 0;
  let fallbacks = 0;

  const fed = new Set<Member>();
  const keysOf = (member: Member) => member.filter.categories ?? [''];

  function register(member: Member): void {
    if (fed.has(member)) return;
    fed.add(member);
    for (const key of keysOf(member)) {
      const set = members.get(key) ?? new Set<Member>();
      members.set(key, set);
      set.add(member);
    }
  }

  function unregister(member: Member): void {
    if (!fed.delete(member)) return;
    for (const key of keysOf(member)) {
      const set = members.get(key);
      set?.delete(member);
      if (set?.size === 0) members.delete(key);
    }
  }

  async function pump(current: Run): Promise<void> {
    try {
      for await (const message of current.subscription) {
        if (message.kind !== 'event') continue;
        const event = message.event;
        current.position = event.position;
        // Synchronous: a member joining between two events sees exactly the ones after `position`.
        // (A member leaving during `offer` is removed from the set being iterated, which is safe.)
        for (const key of [event.category, '']) {
          const set = members.get(key);
          if (set) for (const member of set) member.offer(event);
        }
      }
    } catch (error) {
      if (!current.stopping)
        logger.warn({ err: error }, 'shared log tail failed; its feeds read on their own');
    } finally {
      if (run === current) run = null;
      for (const member of [...fed]) member.detach();
    }
  }

  async function start(): Promise<Run> {
    const head = await events.headPosition();
    if (closed) throw new Error('the log hub is closed');
    const position = head ?? START;
    const subscription = events.subscribeToAll({ after: afterOf(position) });
    storeSubscriptions++;
    const current: Run = { subscription, position, stopping: false, done: Promise.resolve() };
    run = current;
    current.done = pump(current);
    return current;
  }

  /** The running shared tail, started if need be. */
  async function running(): Promise<Run> {
    for (;;) {
      if (closed) throw new Error('the log hub is closed');
      if (run && !run.stopping) return run;
      if (run) {
        await run.done;
        continue;
      }
      starting ??= start().finally(() => {
        starting = null;
      });
      return await starting;
    }
  }

  async function stop(current: Run): Promise<void> {
    current.stopping = true;
    await current.subscription.close();
    await current.done;
  }

  const shared: SharedTail = {
    events,
    maxBuffered,
    pageSize,
    running,
    current: () => run,
    register,
    unregister,
    fellBehind: () => {
      fallbacks++;
    },
    admit(feed) {
      if (closed) return false;
      feeds.add(feed);
      return true;
    },
    async release(feed) {
      feeds.delete(feed);
      if (feeds.size > 0 || closed) return;
      // The last feed left: the shared tail stops (one that was starting, once it has started).
      await starting?.catch(() => undefined);
      if (feeds.size === 0 && run && !run.stopping) await stop(run);
    },
  };

  return {
    tail: (options) => createFeed(shared, options),
    stats: () => ({
      feeds: feeds.size,
      live: fed.size,
      storeSubscriptions,
      fallbacks,
      position: run && run.position !== START ? run.position : null,
    }),
    async close() {
      closed = true;
      await Promise.all([...feeds].map((f) => f.close()));
      await starting?.catch(() => undefined);
      if (run) await stop(run);
    },
  };
}
