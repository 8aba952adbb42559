import type { ActorKind } from '../actors/actor-kind.js';
import { actorKinds } from '../actors/kinds.js';
import { actorOfStream, type ReplayedState, replayActor } from '../actors/replay.js';
import { diffJson, type JsonChange, jsonPointer, toJson } from '../audit/json-diff.js';
import type { JsonValue, Position, RecordedEvent } from '../stores/event-store/port.js';
import { AuditEvent } from './audit-event.js';
import { builder } from './builder.js';
import { badInput } from './errors.js';
import { JSONScalar } from './json.js';
import { tailLog } from './log-tail.js';

/** The machines the actors run, used here only to fold their streams (nothing is started). */
const KINDS: readonly ActorKind[] = actorKinds();

/** What is compared between two states: the machine's state value, its status and its context. */
const stateJson = (s: ReplayedState): JsonValue =>
  toJson({ value: s.value, status: s.status, context: s.context });

const changesOf = (from: ReplayedState, to: ReplayedState) => diffJson(stateJson(from), stateJson(to));

function actorArg(streamId: string) {
  const actor = actorOfStream(KINDS, streamId);
  if (!actor)
    throw badInput(
      'streamId',
      `${streamId} is not an actor's stream: actors live in <kind>-<id>, kind one of ${KINDS.map((k) => k.kind).join(', ')}`,
    );
  return actor;
}

const ActorPointInput = builder.inputType('ActorPointInput', {
  description:
    'A point in an actor’s history: the state after a revision of its stream, or as of a time. One of them.',
  fields: (t) => ({
    revision: t.string({
      description: 'A revision of its stream (a decimal string): the state after that event.',
    }),
    at: t.field({
      type: 'DateTime',
      description: 'The state after the last event appended at or before then.',
    }),
  }),
});

function pointOf(field: string, point: { revision?: string | null; at?: number | null } | null | undefined) {
  if (!point) return {};
  if ((point.revision == null) === (point.at == null))
    throw badInput(field, 'give a revision or a time (at), one of them');
  if (point.at != null) return { time: new Date(point.at) };
  if (!/^\d{1,19}$/.test(point.revision!))
    throw badInput(`${field}.revision`, 'must be a decimal stream revision');
  return { revision: BigInt(point.revision!) };
}

const StateChangeOp = builder.enumType('StateChangeOp', {
  values: {
    ADDED: { value: 'added' },
    REMOVED: { value: 'removed' },
    CHANGED: { value: 'changed' },
  } as const,
});

const StateChange = builder.objectRef<JsonChange>('StateChange').implement({
  description: 'One difference between two states of an actor.',
  fields: (t) => ({
    op: t.field({ type: StateChangeOp, resolve: (c) => c.op }),
    path: t.stringList({
      description: 'Keys and array indexes from the state’s root (`value`, `status` or `context`).',
      resolve: (c) => c.path.map(String),
    }),
    pointer: t.string({
      description: 'The path as a JSON Pointer (RFC 6901).',
      resolve: (c) => jsonPointer(c.path),
    }),
    before: t.field({ type: JSONScalar, nullable: true, resolve: (c) => c.before ?? null }),
    after: t.field({ type: JSONScalar, nullable: true, resolve: (c) => c.after ?? null }),
  }),
});

const ActorState = builder.objectRef<ReplayedState>('ActorState').implement({
  description:
    'An actor’s state as its stream records it, folded from the log with the actor’s own machine: a pipeline’s definition, lifecycle and mode; a model’s versions and deployment; an alert manager’s alerts and silences.',
  fields: (t) => ({
    streamId: t.exposeString('streamId'),
    kind: t.exposeString('kind'),
    id: t.exposeString('id'),
    value: t.field({
      type: JSONScalar,
      description: 'The machine’s state value (a name, or nested names for parallel states).',
      resolve: (s) => toJson(s.value),
    }),
    status: t.exposeString('status', { description: 'active | done (a final state) | error | stopped' }),
    context: t.field({ type: JSONScalar, resolve: (s) => toJson(s.context) }),
    revision: t.string({
      nullable: true,
      description: 'The revision of the last event folded in; null before the first (the initial state).',
      resolve: (s) => s.last?.revision.toString() ?? null,
    }),
    position: t.field({ type: 'Position', nullable: true, resolve: (s) => s.last?.position ?? null }),
    at: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the last event folded in was appended.',
      resolve: (s) => s.last?.createdAt.getTime() ?? null,
    }),
    event: t.field({
      type: AuditEvent,
      nullable: true,
      description: 'The last event folded in.',
      resolve: (s) => s.last,
    }),
  }),
});

const ActorStateDiff = builder
  .objectRef<{ from: ReplayedState; to: ReplayedState }>('ActorStateDiff')
  .implement({
    fields: (t) => ({
      from: t.field({ type: ActorState, resolve: (d) => d.from }),
      to: t.field({ type: ActorState, resolve: (d) => d.to }),
      changes: t.field({ type: [StateChange], resolve: (d) => changesOf(d.from, d.to) }),
    }),
  });

interface StateChangeShape {
  readonly previous: ReplayedState;
  readonly state: ReplayedState;
  readonly event: RecordedEvent;
}

const ActorStateChange = builder.objectRef<StateChangeShape>('ActorStateChange').implement({
  description: 'One event of an actor’s stream and the state it led to.',
  fields: (t) => ({
    event: t.field({ type: AuditEvent, resolve: (c) => c.event }),
    state: t.field({ type: ActorState, resolve: (c) => c.state }),
    changes: t.field({
      type: [StateChange],
      description: 'What the event changed.',
      resolve: (c) => changesOf(c.previous, c.state),
    }),
  }),
});

builder.queryFields((t) => ({
  actorState: t.field({
    type: ActorState,
    nullable: true,
    description:
      'The state of an actor (`pipeline-cpu`, `model-latency`, `alertmanager-main`, `agent-otlp`…) as of a revision or a time, folded from its stream; now, without `asOf`. Before its first event: its initial state (revision null). Null when the stream has no events.',
    args: { streamId: t.arg.string({ required: true }), asOf: t.arg({ type: ActorPointInput }) },
    resolve: async (_root, args, ctx) => {
      const { kind, id } = actorArg(args.streamId);
      const replay = await replayActor(ctx.events, kind, id, pointOf('asOf', args.asOf));
      if (replay.state.last) return replay.state;
      for await (const _ of ctx.events.readStream(args.streamId, { maxCount: 1 })) return replay.state;
      return null;
    },
  }),
  actorStateDiff: t.field({
    type: ActorStateDiff,
    description: 'What changed in an actor’s state between two points of its history.',
    args: {
      streamId: t.arg.string({ required: true }),
      from: t.arg({ type: ActorPointInput, required: true }),
      to: t.arg({ type: ActorPointInput, required: true }),
    },
    resolve: async (_root, args, ctx) => {
      const { kind, id } = actorArg(args.streamId);
      const [from, to] = await Promise.all([
        replayActor(ctx.events, kind, id, pointOf('from', args.from)),
        replayActor(ctx.events, kind, id, pointOf('to', args.to)),
      ]);
      return { from: from.state, to: to.state };
    },
  }),
}));

builder.subscriptionFields((t) => ({
  actorStateChanged: t.field({
    type: ActorStateChange,
    description:
      'Each event of an actor’s stream as it is appended, with the state it led to and what it changed; resume after a disconnect by passing the last `event.position` received as `after`.',
    args: { streamId: t.arg.string({ required: true }), after: t.arg({ type: 'Position' }) },
    subscribe: async (_root, args, ctx) => {
      const { kind, id } = actorArg(args.streamId);
      let after: Position;
      const replay = await (async () => {
        if (args.after != null) {
          after = args.after;
          return replayActor(ctx.events, kind, id, { position: args.after });
        }
        // Every event of the stream up to the head now is in the fold; the feed takes the rest.
        const head = (await ctx.events.headPosition()) ?? -1n;
        const folded = await replayActor(ctx.events, kind, id);
        const last = folded.state.last?.position ?? -1n;
        after = last > head ? last : head;
        return folded;
      })();
      return tailLog<StateChangeShape>(ctx.logHub, {
        after: after!,
        filter: { categories: [kind.kind] },
        map: (event) => {
          if (event.streamId !== args.streamId) return [];
          const previous = replay.state;
          return [{ previous, state: replay.apply(event), event }];
        },
      });
    },
    resolve: (change) => change,
  }),
}));
