/**
 * Server-side filters for EventStoreDB subscriptions to $all: the port's `EventFilter` (categories,
 * event types) as the server's stream-name or event-type regex, so that a consumer of a few
 * categories is not sent the whole log. The server takes one filter: categories when both are given
 * (event types are then checked on the client, as every event still is, so the answer is exact).
 */
import {
  type Position as EsdbPosition,
  eventTypeFilter,
  excludeSystemEvents,
  type Filter,
  streamNameFilter,
} from '@eventstore/db-client';
import type { EventFilter } from './port.js';

/** Escapes a literal for a .NET (and JavaScript) regular expression: its metacharacters only. */
function literal(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/**
 * The regex the server filters on: stream names of the categories (the stream id up to its first
 * '-', or all of it), or exact event types; null when nothing narrows the read.
 */
export function serverFilterRegex(
  filter: EventFilter | undefined,
): { readonly on: 'streamName' | 'eventType'; readonly regex: string } | null {
  if (filter?.categories) {
    const names = filter.categories.map(literal).join('|');
    return { on: 'streamName', regex: filter.categories.length ? `^(?:${names})(?:-|$)` : '(?!)' };
  }
  if (filter?.eventTypes) {
    const names = filter.eventTypes.map(literal).join('|');
    return { on: 'eventType', regex: filter.eventTypes.length ? `^(?:${names})$` : '(?!)' };
  }
  return null;
}

/**
 * The server filter of a subscription, reporting how far the server has searched (`reached`) even
 * through stretches where nothing matches, so catch-up is seen without a matching event at the head.
 */
export function serverFilter(
  filter: EventFilter | undefined,
  reached: (position: EsdbPosition) => void,
): Filter {
  const progress = {
    // A checkpoint every 32 events searched (the server's search window), the smallest interval.
    checkpointInterval: 1,
    checkpointReached: (_: unknown, position: EsdbPosition) => reached(position),
  };
  const server = serverFilterRegex(filter);
  if (!server) return excludeSystemEvents(progress);
  return server.on === 'streamName'
    ? streamNameFilter({ regex: server.regex, ...progress })
    : eventTypeFilter({ regex: server.regex, ...progress });
}
