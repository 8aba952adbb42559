import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { v5 as uuidv5 } from 'uuid';
import {
  type AnyActorRef,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  initialTransition,
  type StateValue,
  transition,
} from 'xstate';
import { ConflictError, EventRejectedError, NotFoundError, ValidationError } from '../domain/errors.js';
import { envelope as buildEnvelope, type Source } from '../runtime/envelope.js';
import {
  type EventData,
  type EventStore,
  type JsonValue,
  type Metadata,
  type RecordedEvent,
  WrongExpectedVersionError,
} from '../stores/event-store/port.js';
import type { ActorKind } from './actor-kind.js';
import { readInFlightIndex, writeInFlightIndex } from './in-flight-index.js';
import {
  encodeSnapshot,
  type PendingEffect,
  type RecordedCommand,
  usableSnapshot,
  writeSnapshot,
} from './snapshots.js';
import { invokingStatePaths, statePaths } from './state-paths.js';

/** Who asked, and why: recorded with every event. */
export interface Envelope {
  /** `user:<id>`, `apikey:<id>` or `actor:<stream id>`. */
  readonly principal: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  /**
   * The event the command was decided from: its id becomes the causation, its position the source
   * position, and its correlation and `onBehalfOf` are inherited (see runtime/envelope.ts).
   */
  readonly source?: Source;
  /** Makes a retried command idempotent: the same command id is answered with the first result. */
  readonly commandId?: string;
}

export interface ActorAddress {
  readonly kind: string;
  readonly id: string;
}

export interface ActorView {
  readonly streamId: string;
  readonly kind: string;
  readonly id: string;
  readonly state: StateValue;
  readonly status: AnyMachineSnapshot['status'];
  readonly context: unknown;
  /** Revision of the last event folded in; null when the actor has no stream yet. */
  readonly revision: bigint | null;
}

export interface SendResult extends ActorView {
  readonly eventId: string;
  readonly position: bigint;
  /** True when this was a retry of a command already recorded; nothing new was appended. */
  readonly duplicate: boolean;
}

export interface ActorHost {
  /** Validates the event, checks the machine accepts it, appends it, then runs the side effects. */
  send(address: ActorAddress, event: unknown, envelope: Envelope): Promise<SendResult>;
  /** Several events as one decision: all appended in one append, or none; one command id for all. */
  sendAll(address: ActorAddress, events: readonly unknown[], envelope: Envelope): Promise<SendResult>;
  /** The actor's current state, rehydrated from its stream if it is not in memory. */
  get(address: ActorAddress): Promise<ActorView>;
  /** What the actor knew at a revision or a time: a fold of its stream up to that point. */
  stateAt(address: ActorAddress, at: { revision?: bigint; time?: Date }): Promise<ActorView>;
  /** Rehydrates every actor of the given kinds whose last state had work in flight, resuming that work. */
  recover(kinds?: readonly string[]): Promise<number>;
  /** Resolves when no side effect is running and no result is waiting to be appended. */
  settled(): Promise<void>;
  /** Stops side effects and refuses new commands; results of stopped work are not recorded. */
  stop(): Promise<void>;
}

export interface ActorHostOptions {
  readonly store: EventStore;
  readonly kinds: readonly ActorKind[];
  readonly logger: Logger;
  readonly newId?: () => string;
  /** How often appending a side effect's result is retried while the store fails. */
  readonly effectRetry?: { readonly attempts: number; readonly baseDelayMs: number };
  /** Actors kept in memory; the least recently loaded idle ones are dropped past this (default 10,000). */
  readonly maxCachedActors?: number;
  /**
   * A snapshot of an actor is stored once it has folded or appended this many events since its last
   * one (default 500); rehydration then folds only the events after it. 0: no snapshots, every
   * rehydration folds the whole stream.
   */
  readonly snapshotEvery?: number;
}

interface Entry {
  readonly kind: ActorKind;
  readonly streamId: string;
  readonly id: string;
  snapshot: AnyMachineSnapshot;
  revision: bigint | null;
  readonly commands: Map<string, RecordedCommand>;
  readonly pending: Map<string, PendingEffect>;
  readonly running: Map<string, AnyActorRef>;
  /** The first event of the stream the state was folded from, and the id of the event at `revision`. */
  first: { revision: bigint; id: string } | null;
  lastEventId: string | null;
  /** Events folded or appended since the last snapshot (stored or loaded). */
  unsnapshotted: number;
}

interface ExecutableAction {
  readonly type: string;
  readonly params?: unknown;
  readonly info?: unknown;
  readonly exec?: ((info: unknown, params: unknown) => void) | undefined;
}

/** Namespace for deterministic event ids derived from command ids. */
const COMMAND_NAMESPACE = '7b0a4c52-3f8e-4d1e-9a55-2c7f0d6b8e11';
const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,200}$/;

function eventOf(recorded: RecordedEvent): { type: string } {
  const data = recorded.data;
  return { ...(data && typeof data === 'object' && !Array.isArray(data) ? data : {}), type: recorded.type };
}

function metaString(metadata: Metadata, key: string): string | undefined {
  const value = metadata[key];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Hosts XState machines as event-sourced actors. Each event is checked with the machine's pure
 * `transition`, appended to the actor's stream with the expected revision, and only then are the
 * resulting actions run. Rehydration folds the stream through `transition` and discards the
 * actions, so nothing re-fires; work that was in flight when the process died is started again.
 */
export function createActorHost(options: ActorHostOptions): ActorHost {
  const { store, logger } = options;
  const newId = options.newId ?? randomUUID;
  const retry = options.effectRetry ?? { attempts: 5, baseDelayMs: 200 };
  const maxCached = options.maxCachedActors ?? 10_000;
  const snapshotEvery = options.snapshotEvery ?? 500;
  const kinds = new Map(options.kinds.map((k) => [k.kind, k]));
  const entries = new Map<string, Entry>();
  const locks = new Map<string, Promise<unknown>>();
  const deliveries = new Set<Promise<void>>();
  let stopping = false;

  function kindOf(address: ActorAddress): ActorKind {
    const kind = kinds.get(address.kind);
    if (!kind) throw new NotFoundError(`unknown actor kind '${address.kind}'`);
    if (!ID_PATTERN.test(address.id)) {
      throw new ValidationError(`invalid actor id '${address.id}'`, [
        { path: 'id', message: 'must be 1-200 characters of letters, digits, _ . : -' },
      ]);
    }
    return kind;
  }

  /** Runs `work` after every earlier call for the same stream has finished. */
  function serialised<T>(streamId: string, work: () => Promise<T>): Promise<T> {
    const previous = locks.get(streamId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    locks.set(streamId, tail);
    void tail.then(() => {
      if (locks.get(streamId) === tail) locks.delete(streamId);
    });
    return next;
  }

  function view(entry: Entry): ActorView {
    return {
      streamId: entry.streamId,
      kind: entry.kind.kind,
      id: entry.id,
      state: entry.snapshot.value,
      status: entry.snapshot.status,
      context: entry.snapshot.context,
      revision: entry.revision,
    };
  }

  /** Records the invokes that actions start and forgets the ones the new snapshot no longer has. */
  function trackEffects(
    entry: Entry,
    actions: readonly ExecutableAction[],
    trigger: { eventId: string; correlationId: string },
  ): void {
    for (const action of actions) {
      if (action.type === 'xstate.spawnChild') {
        const params = action.params as { id: string; src: unknown; input: unknown };
        if (typeof params.src === 'string') {
          // Re-entering an invoking state replaces the earlier run of the same child.
          const earlier = entry.running.get(params.id);
          entry.running.delete(params.id);
          earlier?.stop();
          entry.pending.set(params.id, {
            src: params.src,
            input: params.input,
            triggerEventId: trigger.eventId,
            correlationId: trigger.correlationId,
          });
        }
      }
    }
    for (const childId of entry.pending.keys()) {
      if (!(childId in entry.snapshot.children)) {
        entry.pending.delete(childId);
        const running = entry.running.get(childId);
        entry.running.delete(childId);
        running?.stop();
      }
    }
  }

  /** Forgets, then stops, every running effect of the entry: a stopped run records nothing. */
  function stopAll(entry: Entry): void {
    const running = [...entry.running.values()];
    entry.running.clear();
    for (const actor of running) actor.stop();
  }

  function runActions(entry: Entry, actions: readonly ExecutableAction[]): void {
    for (const action of actions) {
      if (action.type.startsWith('xstate.') || !action.exec) continue;
      try {
        action.exec(action.info, action.params);
      } catch (error) {
        logger.error({ err: error, streamId: entry.streamId, action: action.type }, 'actor action failed');
      }
    }
  }

  function startEffects(entry: Entry): void {
    if (stopping) return;
    for (const [childId, effect] of entry.pending) {
      if (entry.running.has(childId)) continue;
      const logic = (entry.kind.machine.implementations.actors as Record<string, unknown>)[effect.src];
      if (!logic) {
        logger.error({ streamId: entry.streamId, src: effect.src }, 'no implementation for invoked actor');
        continue;
      }
      const actor = createActor(logic as Parameters<typeof createActor>[0], { input: effect.input });
      entry.running.set(childId, actor);
      const finish = (result: { output: unknown } | { error: unknown }): void => {
        if (entry.running.get(childId) !== actor) return; // stopped or superseded
        entry.running.delete(childId);
        deliverEffectResult(entry, childId, effect, result);
      };
      // Observers never throw: an exception here would be rethrown asynchronously by XState.
      actor.subscribe({
        // `stop()` also completes an actor; only a run that finished has a result to record.
        complete: () => {
          if (actor.getSnapshot().status === 'done') finish({ output: actor.getSnapshot().output });
        },
        error: (error) => finish({ error }),
      });
      actor.start();
    }
  }

  function deliverEffectResult(
    entry: Entry,
    childId: string,
    effect: PendingEffect,
    result: { output: unknown } | { error: unknown },
  ): void {
    const address = { kind: entry.kind.kind, id: entry.id };
    const envelope: Envelope = {
      principal: `actor:${entry.streamId}`,
      correlationId: effect.correlationId,
      causationId: effect.triggerEventId,
      // Deterministic: the same work finishing twice (two hosts, or a retry) records one fact.
      commandId: `effect:${effect.triggerEventId}:${childId}`,
    };
    let event: unknown;
    if ('output' in result) {
      try {
        event = entry.kind.parseEvent(result.output);
      } catch (error) {
        event = entry.kind.effectFailed(effect.src, error);
      }
    } else {
      logger.warn({ err: result.error, streamId: entry.streamId, src: effect.src }, 'invoked actor failed');
      event = entry.kind.effectFailed(effect.src, result.error);
    }
    if (event === null) return;
    const delivery = (async () => {
      for (let attempt = 1; ; attempt++) {
        if (stopping) return;
        try {
          await send(address, event, envelope);
          return;
        } catch (error) {
          if (error instanceof EventRejectedError || error instanceof ValidationError) {
            logger.info(
              { streamId: entry.streamId, src: effect.src, reason: error.message },
              'effect result not recorded',
            );
            return;
          }
          if (attempt >= retry.attempts) {
            logger.error(
              { err: error, streamId: entry.streamId, src: effect.src },
              'could not record effect result; it will run again when the actor is rehydrated',
            );
            entries.delete(entry.streamId);
            return;
          }
          await new Promise((r) => setTimeout(r, retry.baseDelayMs * 2 ** (attempt - 1)));
        }
      }
    })();
    deliveries.add(delivery);
    void delivery.finally(() => deliveries.delete(delivery));
  }

  async function fold(
    kind: ActorKind,
    id: string,
    until?: { revision?: bigint; time?: Date },
    // Not for a point in time: event times need not rise within a stream (see replay.ts).
    withSnapshot = snapshotEvery > 0 && until?.time === undefined,
  ): Promise<Entry> {
    const streamId = `${kind.kind}-${id}`;
    const [initial] = initialTransition(kind.machine as AnyStateMachine, { id });
    const entry: Entry = {
      kind,
      streamId,
      id,
      snapshot: initial,
      revision: null,
      commands: new Map(),
      pending: new Map(),
      running: new Map(),
      first: null,
      lastEventId: null,
      unsnapshotted: 0,
    };
    const saved = withSnapshot ? await usableSnapshot(store, kind, streamId, until?.revision) : null;
    if (saved) {
      entry.snapshot = saved.snapshot;
      entry.revision = saved.revision;
      for (const [commandId, command] of saved.commands) entry.commands.set(commandId, command);
      for (const [childId, effect] of saved.pending) entry.pending.set(childId, effect);
      entry.first = { ...saved.first };
      entry.lastEventId = saved.lastEventId;
    }
    // With a snapshot, the read starts at its revision: that event must be the one it was taken at.
    let check = saved !== null;
    for await (const recorded of store.readStream(streamId, saved ? { fromRevision: saved.revision } : {})) {
      if (check) {
        check = false;
        if (
          recorded.revision !== saved?.revision ||
          recorded.id !== saved.lastEventId ||
          (until?.time !== undefined && recorded.createdAt > until.time)
        ) {
          return fold(kind, id, until, false);
        }
        continue;
      }
      if (until?.revision !== undefined && recorded.revision > until.revision) break;
      if (until?.time !== undefined && recorded.createdAt > until.time) break;
      const [next, actions] = transition(kind.machine as AnyStateMachine, entry.snapshot, eventOf(recorded));
      if (next === entry.snapshot) {
        logger.warn(
          { streamId, revision: recorded.revision, type: recorded.type, machineVersion: kind.machineVersion },
          'recorded event not accepted by the current machine; skipped in the fold',
        );
      }
      entry.snapshot = next;
      entry.revision = recorded.revision;
      entry.first ??= { revision: recorded.revision, id: recorded.id };
      entry.lastEventId = recorded.id;
      entry.unsnapshotted++;
      trackEffects(entry, actions as ExecutableAction[], {
        eventId: recorded.id,
        correlationId: metaString(recorded.metadata, 'correlationId') ?? recorded.id,
      });
      const commandId = metaString(recorded.metadata, 'commandId');
      if (commandId) {
        entry.commands.set(commandId, {
          eventId: recorded.id,
          position: recorded.position,
          revision: recorded.revision,
        });
      }
    }
    // The stream ends before the snapshot's revision: it is not the stream the snapshot was taken of.
    if (check) {
      logger.info({ streamId }, 'actor snapshot is ahead of its stream; folding it all');
      return fold(kind, id, until, false);
    }
    return entry;
  }

  /** Stores a snapshot of the entry once enough events have gone by since the last; never fails the caller. */
  async function snapshotIfDue(entry: Entry): Promise<void> {
    if (snapshotEvery <= 0 || entry.unsnapshotted < snapshotEvery) return;
    if (entry.revision === null || entry.first === null || entry.lastEventId === null) return;
    entry.unsnapshotted = 0;
    const event = encodeSnapshot(
      entry.kind,
      entry.streamId,
      {
        snapshot: entry.snapshot,
        revision: entry.revision,
        lastEventId: entry.lastEventId,
        first: entry.first,
        commands: entry.commands,
        pending: entry.pending,
      },
      randomUUID(),
    );
    if (!event) {
      logger.debug({ streamId: entry.streamId }, 'actor state does not survive JSON; no snapshot');
      return;
    }
    try {
      await writeSnapshot(store, entry.streamId, event);
    } catch (error) {
      logger.warn({ err: error, streamId: entry.streamId }, 'actor snapshot not stored');
    }
  }

  async function load(address: ActorAddress): Promise<Entry> {
    const kind = kindOf(address);
    const streamId = `${kind.kind}-${address.id}`;
    const cached = entries.get(streamId);
    if (cached) return cached;
    const entry = await fold(kind, address.id);
    if (entry.revision !== null) remember(entry);
    startEffects(entry);
    await snapshotIfDue(entry);
    return entry;
  }

  function remember(entry: Entry): void {
    entries.set(entry.streamId, entry);
    if (entries.size <= maxCached) return;
    for (const [streamId, candidate] of entries) {
      if (entries.size <= maxCached) break;
      if (candidate.pending.size === 0 && candidate !== entry && !locks.has(streamId))
        entries.delete(streamId);
    }
  }

  /**
   * Sends events to one actor as one decision: each is validated and checked against the machine in
   * turn, then all are appended in one append (all or none), then their actions run. One command id
   * covers them all: a retry of the decision is answered as a duplicate, whole.
   */
  async function sendAll(
    address: ActorAddress,
    raws: readonly unknown[],
    envelope: Envelope,
  ): Promise<SendResult> {
    if (stopping) throw new Error('actor host is stopping');
    if (!raws.length) throw new Error('sendAll needs at least one event');
    const kind = kindOf(address);
    const parsed = raws.map((raw) => kind.parseEvent(raw) as { type: string });
    const streamId = `${kind.kind}-${address.id}`;
    return serialised(streamId, async () => {
      const entry = await load(address);
      if (envelope.commandId) {
        const done = entry.commands.get(envelope.commandId);
        if (done) return { ...view(entry), eventId: done.eventId, position: done.position, duplicate: true };
      }
      let snapshot = entry.snapshot;
      const steps: {
        eventId: string;
        next: AnyMachineSnapshot;
        actions: ExecutableAction[];
        event: EventData;
      }[] = [];
      for (const [i, event] of parsed.entries()) {
        if (!snapshot.can(event)) throw new EventRejectedError(streamId, event.type, snapshot.value);
        const [next, actions] = transition(kind.machine as AnyStateMachine, snapshot, event);
        const eventId = envelope.commandId
          ? uuidv5(`${streamId}:${envelope.commandId}${i === 0 ? '' : `:${i}`}`, COMMAND_NAMESPACE)
          : newId();
        const { type, ...data } = event;
        const metadata = buildEnvelope(
          {
            principal: envelope.principal,
            schemaVersion: kind.schemaVersion,
            ...(envelope.source ? { source: envelope.source } : {}),
            // Without a source, the first event of the command starts the chain.
            ...(envelope.correlationId || !envelope.source
              ? { correlationId: envelope.correlationId ?? steps[0]?.eventId ?? eventId }
              : {}),
            ...(envelope.causationId ? { causationId: envelope.causationId } : {}),
            ...(envelope.commandId ? { commandId: envelope.commandId } : {}),
            extra: { machineVersion: kind.machineVersion, state: next.value as JsonValue },
          },
          eventId,
        );
        steps.push({
          eventId,
          next,
          actions: actions as ExecutableAction[],
          event: { id: eventId, type, data: data as JsonValue, metadata },
        });
        snapshot = next;
      }
      let appended: { nextExpectedRevision: bigint; position: bigint };
      try {
        appended = await store.append(
          streamId,
          steps.map((s) => s.event),
          { expectedRevision: entry.revision ?? 'noStream' },
        );
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) {
          // Another writer moved the stream on: our cached state is stale. Drop it; the caller retries.
          entries.delete(streamId);
          stopAll(entry);
          throw new ConflictError(`${streamId} was changed by another writer; retry the command`, {
            cause: error,
          });
        }
        throw error;
      }
      const last = steps[steps.length - 1]!;
      entry.snapshot = last.next;
      entry.revision = appended.nextExpectedRevision;
      entry.first ??= {
        revision: appended.nextExpectedRevision - BigInt(steps.length - 1),
        id: steps[0]!.eventId,
      };
      entry.lastEventId = last.eventId;
      entry.unsnapshotted += steps.length;
      if (!entries.has(streamId)) remember(entry);
      if (envelope.commandId) {
        entry.commands.set(envelope.commandId, {
          eventId: last.eventId,
          position: appended.position,
          revision: appended.nextExpectedRevision,
        });
      }
      const correlationId = String(last.event.metadata?.correlationId ?? last.eventId);
      for (const step of steps) {
        trackEffects(entry, step.actions, { eventId: step.eventId, correlationId });
        runActions(entry, step.actions);
      }
      startEffects(entry);
      await snapshotIfDue(entry);
      return { ...view(entry), eventId: last.eventId, position: appended.position, duplicate: false };
    });
  }

  const send = (address: ActorAddress, raw: unknown, envelope: Envelope) => sendAll(address, [raw], envelope);

  return {
    send,
    sendAll,

    async get(address) {
      const kind = kindOf(address);
      const entry = await serialised(`${kind.kind}-${address.id}`, () => load(address));
      if (entry.revision === null) throw new NotFoundError(`no actor ${entry.streamId}`);
      return view(entry);
    },

    async stateAt(address, at) {
      const kind = kindOf(address);
      const entry = await fold(kind, address.id, at);
      if (entry.revision === null) throw new NotFoundError(`no history for ${entry.streamId} at that point`);
      return view(entry);
    },

    async recover(only) {
      let resumed = 0;
      for (const kind of kinds.values()) {
        if (only && !only.includes(kind.kind)) continue;
        const invoking = invokingStatePaths(kind.machine as AnyStateMachine);
        if (invoking.size === 0) continue;
        // The index of actors with work in flight as of a log position, then the log after it: only
        // the category's events since the last recovery are read, and only actors in flight folded.
        const saved = await readInFlightIndex(store, kind.kind, invoking);
        const inFlight = new Set(saved?.streamIds ?? []);
        let position = saved?.position;
        for await (const recorded of store.readAll({
          ...(position === undefined ? {} : { after: position }),
          filter: { categories: [kind.kind] },
        })) {
          const state = recorded.metadata.state;
          if (state !== undefined && statePaths(state).some((p) => invoking.has(p)))
            inFlight.add(recorded.streamId);
          else inFlight.delete(recorded.streamId);
          position = recorded.position;
        }
        if (position !== undefined && position !== saved?.position) {
          await writeInFlightIndex(
            store,
            kind.kind,
            invoking,
            { position, streamIds: [...inFlight] },
            randomUUID(),
          ).catch((error: unknown) =>
            logger.warn({ err: error, kind: kind.kind }, 'in-flight index not stored'),
          );
        }
        for (const streamId of inFlight) {
          try {
            await this.get({ kind: kind.kind, id: streamId.slice(kind.kind.length + 1) });
          } catch (error) {
            // Its stream was emptied since (truncated): nothing is in flight there.
            if (error instanceof NotFoundError) continue;
            throw error;
          }
          resumed++;
        }
      }
      return resumed;
    },

    async settled() {
      for (;;) {
        const running = [...entries.values()].some((e) => e.running.size > 0);
        if (!running && deliveries.size === 0 && locks.size === 0) return;
        await Promise.race([...deliveries, ...locks.values(), new Promise((r) => setTimeout(r, 10))]);
      }
    },

    async stop() {
      stopping = true;
      for (const entry of entries.values()) stopAll(entry);
      await Promise.allSettled([...locks.values(), ...deliveries]);
    },
  };
}
