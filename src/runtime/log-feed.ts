import {
  type EventFilter,
  type EventStore,
  matchesFilter,
  type Position,
  type RecordedEvent,
} from '../stores/event-store/port.js';

export interface TailOptions<T> {
  /**
   * Exclusive: resume after this position (a negative one: from the very start). Omitted: from the head
   * of the log when the feed starts.
   */
  readonly after?: Position | null;
  readonly filter: EventFilter;
  /** Maps an event to the payload(s) to deliver; empty: skip it. An error ends the feed with it. */
  readonly map: (event: RecordedEvent) => readonly T[];
}

/** A position before every event (the log's positions are never negative). */
export const START = -1n;
export const afterOf = (position: bigint): Position | undefined =>
  position === START ? undefined : position;

/** What the shared tail sees of a feed fed by it. */
export interface Member {
  readonly filter: EventFilter;
  /** Called in log order, synchronously, for every event of the shared tail the filter passes. */
  offer(event: RecordedEvent): void;
  /** The shared tail stopped: read the log on your own from where you are. */
  detach(): void;
}

/** One run of the shared tail: one store subscription. */
export interface TailRun {
  /** The last position handed out (or where the run started): members get every event after it. */
  readonly position: bigint;
  readonly stopping: boolean;
}

/** What a feed needs of the hub. */
export interface SharedTail {
  readonly events: EventStore;
  readonly maxBuffered: number;
  readonly pageSize: number;
  /** The running shared tail, started if need be (throws once the hub is closed). */
  running(): Promise<TailRun>;
  /** The running shared tail now, if any. */
  current(): TailRun | null;
  register(member: Member): void;
  unregister(member: Member): void;
  /** Counts a feed that fell too far behind. */
  fellBehind(): void;
  /** A feed opens: false when the hub is closed already. */
  admit(feed: { close(): Promise<void> }): boolean;
  /** A feed has closed: the shared tail stops with the last one. */
  release(feed: { close(): Promise<void> }): Promise<void>;
}

/**
 * One subscriber's feed (see `createLogHub`). It reads the log on its own (`reading`) until it
 * reaches the shared tail; joins it at the tail's position P (`joining`), holding what the tail hands
 * it while it finishes its own read up to P; and is then fed by the tail alone (`live`). Anything seen
 * twice is dropped by position. Past `maxBuffered` events not yet taken it drops what it holds (none
 * of it delivered) and reads on its own again from the last event it took.
 */
export function createFeed<T>(shared: SharedTail, options: TailOptions<T>): AsyncIterableIterator<T> {
  const { events, maxBuffered, pageSize } = shared;
  const { filter, map } = options;
  let mode: 'reading' | 'joining' | 'live' = 'reading';
  /** Every event up to here that the filter passes has been mapped (or was never to be). */
  let cursor: bigint | null = options.after ?? null;
  let joinedAt = START;
  /** Events from the shared tail not yet taken: `buffered[taken..]`. */
  const buffered: RecordedEvent[] = [];
  let taken = 0;
  const drop = () => {
    buffered.length = 0;
    taken = 0;
  };
  const ready: T[] = [];
  let wake: (() => void) | null = null;
  const notify = () => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };

  const member: Member = {
    filter,
    offer(event) {
      if (!matchesFilter(event, filter)) return;
      if (buffered.length - taken >= maxBuffered) {
        // Too far behind: what it holds was not delivered; it reads it again from the log.
        shared.fellBehind();
        member.detach();
        return;
      }
      buffered.push(event);
      notify();
    },
    detach() {
      shared.unregister(member);
      drop();
      mode = 'reading';
      notify();
    },
  };

  function join(current: TailRun, at: bigint): void {
    if (shared.current() !== current || current.stopping) return; // it stopped meanwhile: read on
    joinedAt = current.position;
    shared.register(member);
    mode = at >= joinedAt ? 'live' : 'joining';
  }

  async function readPage(after: bigint): Promise<RecordedEvent[]> {
    const page: RecordedEvent[] = [];
    for await (const event of events.readAll({ after: afterOf(after), filter, maxCount: pageSize }))
      page.push(event);
    return page;
  }

  /** One step of reading on its own: a page, or joining the shared tail when it is reached. */
  async function readOn(): Promise<void> {
    const current = await shared.running();
    if (ended) return;
    cursor ??= (await events.headPosition()) ?? START;
    if (ended) return;
    if (mode === 'reading' && cursor >= current.position) return join(current, cursor);
    if (mode === 'joining' && cursor >= joinedAt) {
      mode = 'live';
      return;
    }
    const page = await readPage(cursor);
    if (ended) return;
    // `mode` may have changed while reading (fell behind while joining): read the page it asked for.
    const joining = (mode as typeof mode) === 'joining';
    let reachedEnd = page.length < pageSize;
    for (const event of page) {
      if (joining && event.position > joinedAt) {
        reachedEnd = true; // the shared tail has this one and the rest
        break;
      }
      cursor = event.position;
      ready.push(...map(event));
    }
    if (!reachedEnd) return;
    if (joining) {
      if (cursor < joinedAt) cursor = joinedAt;
      mode = 'live';
    } else {
      const now = shared.current();
      if (now) join(now, cursor);
    }
  }

  async function close(): Promise<void> {
    if (ended) return;
    ended = true;
    shared.unregister(member);
    drop();
    ready.length = 0;
    notify();
    await shared.release(feed);
  }

  const feed = { close };
  let ended = !shared.admit(feed);
  const done = (): IteratorResult<T> => ({ value: undefined, done: true });

  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      try {
        while (!ended) {
          if (ready.length) return { value: ready.shift() as T, done: false };
          if (mode !== 'live') {
            await readOn();
            continue;
          }
          if (taken === buffered.length) {
            drop();
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            continue;
          }
          const event = buffered[taken++]!;
          if (cursor !== null && event.position <= cursor) continue; // read on its own already
          cursor = event.position;
          ready.push(...map(event));
        }
      } catch (error) {
        if (ended) return done(); // closed meanwhile (the hub too): whatever failed no longer matters
        await close();
        throw error;
      }
      return done();
    },
    async return() {
      await close();
      return done();
    },
    async throw(error?: unknown) {
      await close();
      throw error;
    },
  };
}
