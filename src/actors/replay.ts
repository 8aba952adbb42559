import {
  type AnyMachineSnapshot,
  type AnyStateMachine,
  initialTransition,
  type StateValue,
  transition,
} from 'xstate';
import type { EventStore, Position, RecordedEvent } from '../stores/event-store/port.js';
import type { ActorKind } from './actor-kind.js';
import { usableSnapshot } from './snapshots.js';

/** Where to stop a fold: the last event at or before this revision, time or log position (all given must hold). */
export interface ReplayPoint {
  readonly revision?: bigint;
  readonly time?: Date;
  readonly position?: Position;
}

/** An actor's state as its stream records it, after the events folded so far. */
export interface ReplayedState {
  readonly streamId: string;
  readonly kind: string;
  readonly id: string;
  readonly value: StateValue;
  readonly status: AnyMachineSnapshot['status'];
  readonly context: unknown;
  /** The last event folded in; null before the first (the machine's initial state). */
  readonly last: RecordedEvent | null;
}

/** A fold of one actor's stream, one event at a time (a subscription moves it along as events come). */
export interface ActorReplay {
  readonly state: ReplayedState;
  /** Folds one more event of the stream in; events of other streams are an error. */
  apply(event: RecordedEvent): ReplayedState;
}

/** The actor kind and id of a stream (`<kind>-<id>`), or null when it is not an actor's stream. */
export function actorOfStream(
  kinds: readonly ActorKind[],
  streamId: string,
): { readonly kind: ActorKind; readonly id: string } | null {
  const dash = streamId.indexOf('-');
  if (dash <= 0) return null;
  const kind = kinds.find((k) => k.kind === streamId.slice(0, dash));
  const id = streamId.slice(dash + 1);
  return kind && id ? { kind, id } : null;
}

/** The event as the machine takes it: its data, with its type (as the host folds it). */
function eventOf(recorded: RecordedEvent): { type: string } {
  const data = recorded.data;
  return { ...(data && typeof data === 'object' && !Array.isArray(data) ? data : {}), type: recorded.type };
}

/**
 * Starts a fold of an actor's stream with the actor's own machine, exactly as the host rehydrates it:
 * each recorded event through XState's pure `transition`, the actions discarded (nothing re-fires).
 * An event the machine does not accept leaves the state as it was, as in the host.
 */
export function startReplay(
  kind: ActorKind,
  id: string,
  from?: { readonly snapshot: AnyMachineSnapshot; readonly last: RecordedEvent },
): ActorReplay {
  const streamId = `${kind.kind}-${id}`;
  const machine = kind.machine as AnyStateMachine;
  let [snapshot] = from ? [from.snapshot] : initialTransition(machine, { id });
  let last: RecordedEvent | null = from?.last ?? null;
  const view = (): ReplayedState => ({
    streamId,
    kind: kind.kind,
    id,
    value: snapshot.value,
    status: snapshot.status,
    context: snapshot.context,
    last,
  });
  let state = view();
  return {
    get state() {
      return state;
    },
    apply(event) {
      if (event.streamId !== streamId) throw new Error(`${event.streamId} is not ${streamId}`);
      [snapshot] = transition(machine, snapshot, eventOf(event));
      last = event;
      state = view();
      return state;
    },
  };
}

const before = (event: RecordedEvent, point: ReplayPoint) =>
  (point.revision === undefined || event.revision <= point.revision) &&
  (point.time === undefined || event.createdAt <= point.time) &&
  (point.position === undefined || event.position <= point.position);

/**
 * An actor's state as of a point: its stream folded up to there (all of it without a point). The
 * fold starts from the actor's stored snapshot when that lies at or before the point and still
 * matches the stream (see snapshots.ts), unless the point is a time; otherwise from the first event.
 */
export async function replayActor(
  store: EventStore,
  kind: ActorKind,
  id: string,
  point: ReplayPoint = {},
): Promise<ActorReplay> {
  const streamId = `${kind.kind}-${id}`;
  // Not for a point in time: event times need not rise within a stream (a clock stepped back), and a
  // fold stops at the first event after the time, which a snapshot cannot tell.
  const saved = point.time === undefined ? await usableSnapshot(store, kind, streamId, point.revision) : null;
  if (saved) {
    let replay: ActorReplay | null = null;
    for await (const event of store.readStream(streamId, { fromRevision: saved.revision })) {
      if (!replay) {
        if (event.revision !== saved.revision || event.id !== saved.lastEventId || !before(event, point))
          break;
        replay = startReplay(kind, id, { snapshot: saved.snapshot, last: event });
        continue;
      }
      if (!before(event, point)) break;
      replay.apply(event);
    }
    if (replay) return replay;
  }
  const replay = startReplay(kind, id);
  for await (const event of store.readStream(replay.state.streamId)) {
    if (!before(event, point)) break;
    replay.apply(event);
  }
  return replay;
}
