import { createHash } from 'node:crypto';
import { type AnyMachineSnapshot, type AnyStateMachine, createActor } from 'xstate';
import { ActorSnapshotted } from '../domain/actor-cache/facts.js';
import type { EventData, EventStore, JsonValue, RecordedEvent } from '../stores/event-store/port.js';
import type { ActorKind } from './actor-kind.js';
import { ACTOR_SNAPSHOT_TYPE, snapshotStreamOf } from './cache-streams.js';

export {
  ACTOR_CACHE_CATEGORY,
  ACTOR_SNAPSHOT_TYPE,
  IN_FLIGHT_INDEX_TYPE,
  inFlightStreamOf,
  isActorCacheEvent,
  snapshotStreamOf,
} from './cache-streams.js';

/** A command already recorded: a retry with its id is answered with this. */
export interface RecordedCommand {
  readonly eventId: string;
  readonly position: bigint;
  readonly revision: bigint;
}

/** An invoked actor the state has started (or will start again after a restart). */
export interface PendingEffect {
  readonly src: string;
  readonly input: unknown;
  readonly triggerEventId: string;
  readonly correlationId: string;
}

/** What a fold of an actor's stream up to `revision` gives: everything a snapshot must give back. */
export interface FoldedActor {
  readonly snapshot: AnyMachineSnapshot;
  readonly revision: bigint;
  /** The id of the event at `revision`: a snapshot is only used when the stream still has it there. */
  readonly lastEventId: string;
  /** The first event the fold read: a stream that no longer starts there is not the one folded. */
  readonly first: { readonly revision: bigint; readonly id: string };
  readonly commands: ReadonlyMap<string, RecordedCommand>;
  readonly pending: ReadonlyMap<string, PendingEffect>;
}

const fingerprints = new WeakMap<ActorKind, string>();

/** A stable text of a machine's definition: functions by their source, cycles cut. */
function describe(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'function') {
    if (seen.has(value)) return '[cycle]';
    seen.add(value);
    const props: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort())
      props[key] = describe((value as unknown as Record<string, unknown>)[key], seen);
    return { fn: value.toString(), props };
  }
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[cycle]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => describe(v, seen));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort())
    out[key] = describe((value as Record<string, unknown>)[key], seen);
  return out;
}

/**
 * The machine version a snapshot is valid for: the kind's `machineVersion` and a hash of the machine's
 * definition and of its actions, guards and delays (not of its invoked actors' implementations, which
 * do not change what a transition gives). A changed machine makes older snapshots unusable.
 */
export function machineFingerprint(kind: ActorKind): string {
  const known = fingerprints.get(kind);
  if (known) return known;
  const machine = kind.machine as AnyStateMachine;
  const { actors: _actors, ...behaviour } = machine.implementations as unknown as Record<string, unknown>;
  const text = JSON.stringify(
    describe(
      { kind: kind.kind, version: kind.machineVersion, config: machine.config, behaviour },
      new WeakSet(),
    ),
  );
  const fingerprint = `${kind.machineVersion}:${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
  fingerprints.set(kind, fingerprint);
  return fingerprint;
}

/**
 * Equal as the log can keep them: JSON types only (a Date, Map or class instance is never equal to
 * what comes back from JSON), numbers by `Object.is`, properties set to undefined as absent.
 */
function sameJson(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return typeof a !== 'number' || Number.isFinite(a) || false;
  if (typeof a === 'number' || typeof b === 'number') return false;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bs = b as unknown[];
    return a.length === bs.length && a.every((v, i) => v !== undefined && sameJson(v, bs[i]));
  }
  const plain = (o: object) => {
    const proto = Object.getPrototypeOf(o);
    return proto === Object.prototype || proto === null;
  };
  if (!plain(a) || !plain(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) =>
      Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/** The machine's snapshot from its persisted form, children included (created, never started). */
function restore(machine: AnyStateMachine, persisted: unknown): AnyMachineSnapshot {
  return createActor(machine, { snapshot: persisted as never }).getSnapshot() as AnyMachineSnapshot;
}

interface SnapshotPayload {
  readonly streamId: string;
  readonly machine: string;
  readonly revision: string;
  readonly lastEventId: string;
  readonly first: { readonly revision: string; readonly id: string };
  readonly state: JsonValue;
  readonly commands: [string, string, string, string][];
  readonly pending: [string, PendingEffect][];
  /** sha-256 of the payload's JSON without this field: a damaged snapshot is never used. */
  readonly digest?: string;
}

const digestOf = (payload: Omit<SnapshotPayload, 'digest'>): string =>
  createHash('sha256').update(JSON.stringify(payload)).digest('hex');

/** True when `restored` is what `folded` is, in everything the host and the machine look at. */
function sameActor(
  folded: Pick<FoldedActor, 'snapshot' | 'pending'>,
  restored: Pick<FoldedActor, 'snapshot' | 'pending'>,
): boolean {
  const a = folded.snapshot;
  const b = restored.snapshot;
  return (
    a.status === b.status &&
    sameJson(a.value, b.value) &&
    sameJson(a.context, b.context) &&
    sameJson(Object.keys(a.children).sort(), Object.keys(b.children).sort()) &&
    sameJson(
      [...a._nodes.map((n: { id: string }) => n.id)],
      [...b._nodes.map((n: { id: string }) => n.id)],
    ) &&
    sameJson([...folded.pending], [...restored.pending])
  );
}

/**
 * The snapshot event of a folded actor, or null when its state would not come back exactly from JSON
 * (then the actor is folded in full, as without snapshots). Checked by restoring it at once.
 */
export function encodeSnapshot(
  kind: ActorKind,
  streamId: string,
  folded: FoldedActor,
  id: string,
): EventData | null {
  const machine = kind.machine as AnyStateMachine;
  let payload: SnapshotPayload;
  try {
    payload = {
      streamId,
      machine: machineFingerprint(kind),
      revision: folded.revision.toString(),
      lastEventId: folded.lastEventId,
      first: { revision: folded.first.revision.toString(), id: folded.first.id },
      state: machine.getPersistedSnapshot(folded.snapshot) as unknown as JsonValue,
      commands: [...folded.commands].map(([commandId, c]) => [
        commandId,
        c.eventId,
        c.position.toString(),
        c.revision.toString(),
      ]),
      pending: [...folded.pending],
    };
    const text = JSON.stringify({ ...payload, digest: digestOf(payload) });
    const back = decodeSnapshot(kind, streamId, JSON.parse(text));
    if (!back || !sameActor(folded, back) || back.commands.size !== folded.commands.size) return null;
    return {
      id,
      type: ACTOR_SNAPSHOT_TYPE,
      data: JSON.parse(text) as JsonValue,
      metadata: { principal: 'system:actor-host', machineVersion: kind.machineVersion, schemaVersion: 1 },
    };
  } catch {
    return null;
  }
}

/** A snapshot's payload back as the fold it stands for, or null when it is not one for this machine. */
export function decodeSnapshot(
  kind: ActorKind,
  streamId: string,
  data: unknown,
): (FoldedActor & { readonly machine: string }) | null {
  try {
    if (!data || typeof data !== 'object' || Array.isArray(data)) return null;
    // The digest is of the payload as written (its keys in their order), before it is parsed.
    const { digest, ...rest } = data as Record<string, unknown>;
    if (digest !== digestOf(rest as unknown as SnapshotPayload)) return null;
    const parsed = ActorSnapshotted.safeParse(data);
    if (!parsed.success) return null;
    const p = parsed.data;
    if (p.streamId !== streamId || p.machine !== machineFingerprint(kind)) return null;
    const commands = new Map<string, RecordedCommand>(
      p.commands.map(([commandId, eventId, position, revision]) => [
        commandId,
        { eventId, position: BigInt(position), revision: BigInt(revision) },
      ]),
    );
    const pending = new Map<string, PendingEffect>(
      p.pending.map(([childId, e]) => [
        childId,
        { src: e.src, input: e.input, triggerEventId: e.triggerEventId, correlationId: e.correlationId },
      ]),
    );
    const snapshot = restore(kind.machine as AnyStateMachine, p.state);
    // Every pending effect is a child of the state, as in a fold.
    for (const childId of pending.keys()) if (!(childId in snapshot.children)) return null;
    return {
      machine: p.machine,
      snapshot,
      revision: BigInt(p.revision),
      lastEventId: p.lastEventId,
      first: { revision: BigInt(p.first.revision), id: p.first.id },
      commands,
      pending,
    };
  } catch {
    return null;
  }
}

/** The newest snapshot of the actor, decoded; null when there is none or it is not usable here. */
export async function readSnapshot(
  store: EventStore,
  kind: ActorKind,
  streamId: string,
): Promise<(FoldedActor & { readonly machine: string }) | null> {
  try {
    for await (const event of store.readStream(snapshotStreamOf(streamId), {
      direction: 'backwards',
      fromRevision: 'end',
      maxCount: 1,
    })) {
      if (event.type !== ACTOR_SNAPSHOT_TYPE) return null;
      return decodeSnapshot(kind, streamId, event.data);
    }
  } catch {
    return null;
  }
  return null;
}

/** Appends the snapshot, then drops the older ones: only the newest is ever read. */
export async function writeSnapshot(store: EventStore, streamId: string, event: EventData): Promise<void> {
  const stream = snapshotStreamOf(streamId);
  const written = await store.append(stream, [event]);
  if (written.nextExpectedRevision > 0n) await store.truncateStream(stream, written.nextExpectedRevision);
}

/**
 * The actor's newest snapshot when it can stand for a fold of its stream up to its revision: of this
 * machine, at or before `maxRevision` when given, and the stream still starts with the event the
 * snapshot's fold started with. The reader still checks that the event at its revision is the one the
 * snapshot names (`lastEventId`) when it reads on from there.
 */
export async function usableSnapshot(
  store: EventStore,
  kind: ActorKind,
  streamId: string,
  maxRevision?: bigint,
): Promise<FoldedActor | null> {
  const saved = await readSnapshot(store, kind, streamId);
  if (!saved) return null;
  if (maxRevision !== undefined && saved.revision > maxRevision) return null;
  let first: RecordedEvent | undefined;
  for await (const recorded of store.readStream(streamId, { maxCount: 1 })) first = recorded;
  if (!first || first.revision !== saved.first.revision || first.id !== saved.first.id) return null;
  return saved;
}
