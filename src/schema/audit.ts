import { type CausalChain, type ChainLink, causalChain } from '../audit/causal-chain.js';
import {
  type EventQuery,
  eventsAfter,
  eventsBefore,
  matchesQuery,
  ScanBudgetError,
  storeFilterOf,
} from '../audit/find-events.js';
import { categoryOf, type Position, type RecordedEvent } from '../stores/event-store/port.js';
import './actor-state.js';
import { AuditEvent } from './audit-event.js';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { badInput } from './errors.js';
import { tailLog } from './log-tail.js';

const PAGE_DEFAULT = 50;
const PAGE_MAX = 200;
const CHAIN_DEFAULT = 100;
const CHAIN_MAX = 1000;

export const AuditEventFilter = builder.inputType('AuditEventFilter', {
  description: 'Which events: every field given must match. Neither stream nor category: all streams.',
  fields: (t) => ({
    streamId: t.string({ description: 'One stream.' }),
    category: t.string({
      description: 'Every stream of a category (`samples`, `pipeline`, `alertmanager`…).',
    }),
    types: t.stringList({ description: 'Any of these event types.' }),
    principal: t.string({ description: 'Caused by this principal (`user:…`, `apikey:…`, `actor:…`).' }),
    correlationId: t.string(),
    from: t.field({ type: 'DateTime', description: 'Appended at or after.' }),
    to: t.field({ type: 'DateTime', description: 'Appended before.' }),
  }),
});

interface FilterArgs {
  readonly streamId?: string | null;
  readonly category?: string | null;
  readonly types?: readonly string[] | null;
  readonly principal?: string | null;
  readonly correlationId?: string | null;
  readonly from?: number | null;
  readonly to?: number | null;
}

/** The filter argument checked, as the audit reads take it. */
export function eventQueryOf(filter: FilterArgs | null | undefined): EventQuery {
  const f = filter ?? {};
  if (f.streamId != null && f.category != null && categoryOf(f.streamId) !== f.category)
    throw badInput('filter.category', `stream ${f.streamId} is not in category ${f.category}`);
  if (f.from != null && f.to != null && !(f.from < f.to)) throw badInput('filter.to', 'must be after from');
  if (f.types && f.types.length === 0)
    throw badInput('filter.types', 'give at least one type, or leave it out');
  return {
    ...(f.streamId != null ? { streamId: f.streamId } : {}),
    ...(f.category != null ? { category: f.category } : {}),
    ...(f.types ? { types: f.types } : {}),
    ...(f.principal != null ? { principal: f.principal } : {}),
    ...(f.correlationId != null ? { correlationId: f.correlationId } : {}),
    ...(f.from != null ? { from: new Date(f.from) } : {}),
    ...(f.to != null ? { to: new Date(f.to) } : {}),
  };
}

function cursorOf(field: string, cursor: string | null | undefined): Position | undefined {
  if (cursor == null) return undefined;
  if (!/^\d{1,19}$/.test(cursor))
    throw badInput(field, 'must be a cursor this connection gave (a log position)');
  return BigInt(cursor);
}

function pageSizeOf(field: string, size: number | null | undefined): number {
  if (size == null) return PAGE_DEFAULT;
  if (!Number.isInteger(size) || size < 1 || size > PAGE_MAX)
    throw badInput(field, `must be an integer from 1 to ${PAGE_MAX}, got ${size}`);
  return size;
}

const sourcesOf = (ctx: GraphQLContext) => ({ events: ctx.events, analytics: ctx.analytics });

const CausalRelation = builder.enumType('CausalRelation', {
  values: {
    CAUSE: { value: 'cause', description: 'What it was decided from, back to the root.' },
    SUBJECT: { value: 'subject', description: 'The event asked about.' },
    DECIDED_WITH: {
      value: 'decidedWith',
      description: 'Recorded by the same actor from the same cause (one decision).',
    },
    EFFECT: { value: 'effect', description: 'Decided from it, or from what was decided with it, onwards.' },
  } as const,
});

const CausalLink = builder.objectRef<ChainLink>('CausalLink').implement({
  fields: (t) => ({
    relation: t.field({ type: CausalRelation, resolve: (l) => l.relation }),
    causedBy: t.field({
      type: 'Position',
      nullable: true,
      description: 'The position of the event of this chain it was decided from (null for the root).',
      resolve: (l) => l.causedBy,
    }),
    event: t.field({ type: AuditEvent, resolve: (l) => l.event }),
  }),
});

const CausalChainRef = builder.objectRef<CausalChain>('CausalChain').implement({
  description: 'Why an event is there, and what came of it, from the envelopes in the log.',
  fields: (t) => ({
    subject: t.field({ type: AuditEvent, resolve: (c) => c.subject }),
    root: t.field({
      type: AuditEvent,
      description: 'The first event of the chain: one with no recorded cause (a sample batch, a command).',
      resolve: (c) => c.links[0]!.event,
    }),
    links: t.field({
      type: [CausalLink],
      description:
        'Causes (root first), the subject, what was decided with it, then its effects: a causal order.',
      resolve: (c) => [...c.links],
    }),
    unresolvedCause: t.exposeString('unresolvedCause', {
      nullable: true,
      description:
        'What the root names as its cause when that event is no longer in the log (a sample batch past its retention).',
    }),
    truncated: t.exposeBoolean('truncated', {
      description: 'The chain goes on past what is shown (cut at `limit` events).',
    }),
  }),
});

builder.queryFields((t) => ({
  auditEvents: t.connection(
    {
      type: AuditEvent,
      description:
        'Events of the log with their whole envelopes, in log order (the cursor is the log position). Found in the audit index and read in full from the log; the log past the index checkpoint is read directly, so an event is found right after it is written. A page may end early, with fewer events than asked and more to come, when the search looked at too many events that do not match (the index far behind the log, or events past their retention): `endCursor` (backwards: `startCursor`) is then where it got to; go on from there.',
      args: { filter: t.arg({ type: AuditEventFilter }) },
      resolve: async (_root, args, ctx) => {
        const q = eventQueryOf(args.filter);
        if (args.first != null && args.last != null) throw badInput('last', 'give first or last, not both');
        const backwards = args.last != null || (args.before != null && args.first == null);
        try {
          const page = backwards
            ? await eventsBefore(
                sourcesOf(ctx),
                q,
                cursorOf('before', args.before),
                pageSizeOf('last', args.last),
              )
            : await eventsAfter(
                sourcesOf(ctx),
                q,
                cursorOf('after', args.after),
                pageSizeOf('first', args.first),
              );
          const edges = page.events.map((node) => ({ cursor: node.position.toString(), node }));
          // A page that stopped early ends (or, backwards, starts) where the search got to.
          const scanned = page.scannedTo?.toString();
          return {
            edges,
            pageInfo: {
              hasNextPage: !backwards && page.hasMore,
              hasPreviousPage: backwards && page.hasMore,
              startCursor: (backwards ? scanned : undefined) ?? edges[0]?.cursor ?? null,
              endCursor: (backwards ? undefined : scanned) ?? edges.at(-1)?.cursor ?? null,
            },
          };
        } catch (error) {
          if (error instanceof ScanBudgetError) throw badInput('last', error.message);
          throw error;
        }
      },
    },
    { name: 'AuditEventConnection' },
    { name: 'AuditEventEdge' },
  ),
  auditEvent: t.field({
    type: AuditEvent,
    nullable: true,
    description: 'The event at a log position; null when there is none (never was, or past its retention).',
    args: { position: t.arg({ type: 'Position', required: true }) },
    resolve: (_root, args, ctx) => ctx.events.readAt(args.position),
  }),
  causalChain: t.field({
    type: CausalChainRef,
    nullable: true,
    description:
      'The causal chain of an event, by its log position or its stream and id: back to its root through each envelope’s source position or causation id, what was decided with it, and forward to what was decided from it. Null when there is no such event.',
    args: {
      position: t.arg({ type: 'Position' }),
      streamId: t.arg.string({ description: 'With `eventId`.' }),
      eventId: t.arg.string(),
      limit: t.arg.int({ description: `Events at most (default ${CHAIN_DEFAULT}, at most ${CHAIN_MAX}).` }),
    },
    resolve: async (_root, args, ctx) => {
      const limit = args.limit ?? CHAIN_DEFAULT;
      if (!Number.isInteger(limit) || limit < 1 || limit > CHAIN_MAX)
        throw badInput('limit', `must be an integer from 1 to ${CHAIN_MAX}, got ${limit}`);
      let subject: RecordedEvent | null;
      if (args.position != null) {
        if (args.eventId != null || args.streamId != null)
          throw badInput('position', 'give a position, or a stream and an event id, not both');
        subject = await ctx.events.readAt(args.position);
      } else {
        if (args.eventId == null || args.streamId == null)
          throw badInput('eventId', 'give a position, or a stream id and an event id');
        subject = await ctx.events.findEvent(args.streamId, args.eventId);
      }
      return subject ? causalChain(sourcesOf(ctx), subject, limit) : null;
    },
  }),
}));

builder.subscriptionFields((t) => ({
  auditEvents: t.field({
    type: AuditEvent,
    description:
      'Events of the log as they are appended, filtered as the `auditEvents` query is; resume after a disconnect by passing the last `position` received as `after`.',
    args: { filter: t.arg({ type: AuditEventFilter }), after: t.arg({ type: 'Position' }) },
    subscribe: (_root, args, ctx) => {
      const q = eventQueryOf(args.filter);
      return tailLog<RecordedEvent>(ctx.logHub, {
        after: args.after,
        filter: storeFilterOf(q),
        map: (event) => (matchesQuery(event, q) ? [event] : []),
      });
    },
    resolve: (event) => event,
  }),
}));
