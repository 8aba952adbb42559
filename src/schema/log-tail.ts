import { type FactData, type FactType, readFactOf } from '../domain/facts.js';
import type { LogHub, TailOptions } from '../runtime/log-hub.js';
import type { Position } from '../stores/event-store/port.js';

/**
 * A live subscription's feed: the log itself, tailed from `after` (a client resuming where it left
 * off) or from the head at subscribe time, filtered and mapped. Every subscription of this instance
 * is fed by the one shared tail of the log (`ctx.logHub`): a subscriber resuming from an older position
 * catches up on its own read and then joins it, so a thousand subscribers cost one read of the log,
 * and a slow one never holds up the others (it falls back to reading on its own; the log is the buffer).
 *
 * `return()` ends the feed at once, which also ends a pending `next()` (a generator waiting on the log
 * could not be returned until it next yielded, which for a selective filter may be never).
 */
export function tailLog<T>(hub: LogHub, options: TailOptions<T>): AsyncIterableIterator<T> {
  return hub.tail(options);
}

/**
 * A feed of one fact type in one stream category, read with its schema (a fact that does not match
 * ends the feed with that error), kept when `keep` says so, with its log position (to resume after).
 */
export function factFeed<T extends FactType>(
  hub: LogHub,
  options: {
    readonly after?: Position | null;
    readonly category: string;
    readonly type: T;
    readonly keep?: (data: FactData<T>) => boolean;
  },
): AsyncIterableIterator<FactData<T> & { readonly position: Position }> {
  return tailLog(hub, {
    after: options.after,
    filter: { categories: [options.category], eventTypes: [options.type] },
    map: (event) => {
      const data = (readFactOf(event, options.type) as unknown as { data: FactData<T> }).data;
      return options.keep && !options.keep(data) ? [] : [{ ...data, position: event.position }];
    },
  });
}
