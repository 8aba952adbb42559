import type { AnyStateMachine, EventFromLogic } from 'xstate';

/**
 * What the host needs to know about one kind of actor: its machine (with real implementations of
 * its invoked actors provided), how to validate an incoming event, and how to turn a failed side
 * effect into a domain event.
 */
export interface ActorKind<TMachine extends AnyStateMachine = AnyStateMachine> {
  /** The stream category: actors of this kind live in streams `<kind>-<id>`. */
  readonly kind: string;
  readonly machine: TMachine;
  /** Recorded with every event; bump when the machine's behaviour changes. */
  readonly machineVersion: number;
  /** Recorded with every event: the version of the payload schema. */
  readonly schemaVersion: number;
  /** Validates an event from outside (or from an effect); throws a ValidationError naming the fields. */
  parseEvent(input: unknown): EventFromLogic<TMachine>;
  /** The event to record when the invoked actor `src` throws, or null to record nothing. */
  effectFailed(src: string, error: unknown): EventFromLogic<TMachine> | null;
}

export function defineActorKind<TMachine extends AnyStateMachine>(
  kind: ActorKind<TMachine>,
): ActorKind<TMachine> {
  if (!/^[a-z][a-z0-9]*$/.test(kind.kind))
    throw new Error(`actor kind '${kind.kind}' must be lower-case letters and digits`);
  return kind;
}
