import { type IndexFilter, indexCheckpoint, indexedPositions } from '../projections/audit-index/lookup.js';
import { sourcePositionOf } from '../runtime/envelope.js';
import type { Position, RecordedEvent } from '../stores/event-store/port.js';
import { type AuditSources, readPositions, scanLog } from './find-events.js';

/** How an event of a chain stands to the event asked about. */
export type ChainRelation = 'cause' | 'subject' | 'decidedWith' | 'effect';

export interface ChainLink {
  readonly event: RecordedEvent;
  readonly relation: ChainRelation;
  /** The position of the event in this chain that caused it; null for the root. */
  readonly causedBy: Position | null;
}

export interface CausalChain {
  readonly subject: RecordedEvent;
  /** Causes (root first), the subject, what was decided with it, then its effects: a causal order. */
  readonly links: readonly ChainLink[];
  /** The cause the root names when that event is no longer in the log (a sample batch past retention). */
  readonly unresolvedCause: string | null;
  /** The chain goes on past what is shown: cut at the limit, or the index too far behind to search. */
  readonly truncated: boolean;
}

/** How far back a chain is followed (a cycle cannot occur in a log, but a damaged envelope could make one). */
const MAX_DEPTH = 64;

const causationOf = (event: RecordedEvent): string | null => {
  const value = event.metadata.causationId;
  return typeof value === 'string' && value !== '' ? value : null;
};
const isPosition = (value: string) => /^\d+$/.test(value);

/**
 * Reads causal links from the log, finding events by id and by cause through the audit index up to
 * its checkpoint and by reading the log past it (so a chain is whole right after it is written).
 */
function chainReader(sources: AuditSources, checkpoint: Position | null) {
  let incomplete = false;

  async function indexed(filter: IndexFilter, range: { after?: Position; before?: Position }, limit: number) {
    if (checkpoint === null) return [];
    const positions = await indexedPositions(sources.analytics, filter, {
      ...range,
      upTo: checkpoint,
      order: 'asc',
      limit,
    });
    return readPositions(sources.events, positions);
  }

  /** The event with this id, before a position. */
  async function byId(id: string, before: Position): Promise<RecordedEvent | null> {
    const [hit] = (await indexed({ eventIds: [id] }, { before }, 1)).filter((e) => e.id === id);
    if (hit) return hit;
    if (checkpoint !== null && before <= checkpoint + 1n) return null;
    let found: RecordedEvent | null = null;
    const scan = await scanLog(
      sources.events,
      { after: checkpoint ?? undefined, before, filter: {} },
      (e) => {
        if (e.id === id) found = e;
        return found === null;
      },
    );
    if (scan.exhausted) incomplete = true;
    return found;
  }

  /**
   * Events (of one stream, if given) that name one of these events as their cause: by id, or by
   * position as older facts did.
   */
  async function causedBy(
    causes: readonly RecordedEvent[],
    limit: number,
    streamId?: string,
  ): Promise<RecordedEvent[]> {
    const names = new Set(causes.flatMap((c) => [c.id, c.position.toString()]));
    const wanted = (e: RecordedEvent) =>
      names.has(causationOf(e) ?? '') && (streamId === undefined || e.streamId === streamId);
    // biome-ignore lint/complexity/useMathMinMax: these are bigints
    const after = causes.map((c) => c.position).reduce((a, b) => (a < b ? a : b));
    const filter: IndexFilter = { causationIds: [...names], ...(streamId !== undefined ? { streamId } : {}) };
    const found = (await indexed(filter, { after }, limit + 1)).filter(wanted);
    if (found.length > limit) {
      incomplete = true;
      return found.slice(0, limit);
    }
    const tailAfter = checkpoint !== null && checkpoint > after ? checkpoint : after;
    const scan = await scanLog(sources.events, { after: tailAfter, filter: {} }, (e) => {
      if (wanted(e)) found.push(e);
      return found.length <= limit;
    });
    if (scan.exhausted || found.length > limit) incomplete = true;
    return found.slice(0, limit);
  }

  /** The event this one was decided from: by its source position, else by its causation id. */
  async function causeOf(event: RecordedEvent): Promise<{ event?: RecordedEvent; missing?: string }> {
    const causation = causationOf(event);
    const position = sourcePositionOf(event.metadata);
    if (position !== null && position < event.position) {
      const at = await sources.events.readAt(position);
      if (at && (causation === null || isPosition(causation) || at.id === causation)) return { event: at };
    }
    if (causation !== null && !isPosition(causation)) {
      const found = await byId(causation, event.position);
      return found ? { event: found } : { missing: causation };
    }
    return position !== null ? { missing: position.toString() } : {};
  }

  return { causeOf, causedBy, incomplete: () => incomplete };
}

/**
 * The causal chain of one event: back to its root by each event's source position or causation id (a
 * sample batch, a command), the facts its actor decided with it from the same cause (an alert
 * transition and its notification are one decision), and forward to everything caused by those, up
 * to `limit` events in all. "Why did this alert fire": the sample batch → the anomaly → the alert
 * transition → the notification.
 */
export async function causalChain(
  sources: AuditSources,
  subject: RecordedEvent,
  limit: number,
): Promise<CausalChain> {
  const reader = chainReader(sources, await indexCheckpoint(sources.analytics, sources.events));
  const seen = new Set([subject.id]);
  const causes: RecordedEvent[] = [];
  let unresolvedCause: string | null = null;
  for (let current = subject, depth = 0; depth < MAX_DEPTH && causes.length < limit - 1; depth++) {
    const cause = await reader.causeOf(current);
    if (cause.missing !== undefined) unresolvedCause = cause.missing;
    if (!cause.event || seen.has(cause.event.id)) break;
    seen.add(cause.event.id);
    causes.unshift(cause.event);
    current = cause.event;
  }
  let room = limit - causes.length - 1;
  const parent = causes.at(-1);
  const decidedWith = parent
    ? (await reader.causedBy([parent], room, subject.streamId)).filter((e) => !seen.has(e.id))
    : [];
  for (const e of decidedWith) seen.add(e.id);
  room -= decidedWith.length;
  const effects: RecordedEvent[] = [];
  let frontier = [subject, ...decidedWith];
  while (frontier.length && room > 0) {
    const fresh = (await reader.causedBy(frontier, room)).filter((e) => !seen.has(e.id));
    for (const e of fresh) seen.add(e.id);
    effects.push(...fresh);
    room -= fresh.length;
    frontier = fresh;
  }
  const byPosition = (a: RecordedEvent, b: RecordedEvent) => (a.position < b.position ? -1 : 1);
  const ordered: [RecordedEvent, ChainRelation][] = [
    ...causes.map((e): [RecordedEvent, ChainRelation] => [e, 'cause']),
    [subject, 'subject'],
    ...decidedWith.sort(byPosition).map((e): [RecordedEvent, ChainRelation] => [e, 'decidedWith']),
    ...effects.sort(byPosition).map((e): [RecordedEvent, ChainRelation] => [e, 'effect']),
  ];
  const positions = new Map<string, Position>();
  for (const [e] of ordered) {
    positions.set(e.id, e.position);
    positions.set(e.position.toString(), e.position);
  }
  const links = ordered.map(([event, relation], i): ChainLink => {
    const named = causationOf(event) ?? sourcePositionOf(event.metadata)?.toString() ?? null;
    const cause = named === null ? undefined : positions.get(named);
    return { event, relation, causedBy: i === 0 || cause === undefined ? null : cause };
  });
  // Out of room with effects still to follow: there may be more.
  const truncated = reader.incomplete() || frontier.length > 0;
  return { subject, links, unresolvedCause, truncated };
}
