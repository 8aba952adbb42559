import type { JsonValue, Metadata } from '../stores/event-store/port.js';

/** The event a fact was decided from: its id, where it is in the log, and the chain it belongs to. */
export interface Source {
  readonly id: string;
  readonly position: bigint;
  readonly metadata?: Metadata;
}

export interface EnvelopeInput {
  /** Who wrote it: `user:…`, `apikey:…`, `anonymous`, `actor:<stream id>`, `system:…`. */
  readonly principal: string;
  /** The payload's schema version. */
  readonly schemaVersion: number;
  /** The event it was decided from, if any: its id is the causation, its chain the correlation. */
  readonly source?: Source;
  /** An explicit correlation (a request's own id), when there is no source to inherit it from. */
  readonly correlationId?: string;
  /** An explicit causation (the command or event that asked), when there is no source. */
  readonly causationId?: string;
  /** Makes a retried command idempotent. */
  readonly commandId?: string;
  /** Kind-specific fields (the actor's machine version and resulting state, an idempotency record…). */
  readonly extra?: Metadata;
}

/**
 * The one envelope every writer puts on its events: who, the payload's schema version, the causal
 * chain (correlation inherited from the source event, causation = the source event's id) and, apart,
 * the source event's log position.
 */
export function envelope(input: EnvelopeInput, eventId: string): Metadata {
  const inherited = input.source?.metadata?.correlationId;
  return {
    principal: input.principal,
    onBehalfOf: onBehalfOf(input),
    schemaVersion: input.schemaVersion,
    correlationId:
      input.correlationId ??
      (typeof inherited === 'string' ? inherited : undefined) ??
      input.source?.id ??
      eventId,
    causationId: input.causationId ?? input.source?.id ?? null,
    sourcePosition: input.source ? input.source.position.toString() : null,
    commandId: input.commandId ?? null,
    ...input.extra,
  };
}

/** A principal that is a caller (a key, a user, anonymous), not the service or one of its actors. */
const isCaller = (principal: unknown): principal is string =>
  typeof principal === 'string' && !principal.startsWith('actor:') && !principal.startsWith('system:');

/**
 * The caller a fact is ultimately on behalf of: the principal of the request that started its causal
 * chain, carried from fact to fact (the sample batch an API key sent → the anomaly a pipeline decided
 * from it → the alert transition), so every downstream fact names the authenticated caller too.
 */
function onBehalfOf(input: EnvelopeInput): string | null {
  const inherited = input.source?.metadata?.onBehalfOf;
  if (isCaller(inherited)) return inherited;
  const sourcePrincipal = input.source?.metadata?.principal;
  if (isCaller(sourcePrincipal)) return sourcePrincipal;
  return isCaller(input.principal) ? input.principal : null;
}

/**
 * The log position of the event a fact was decided from. Facts written before the envelope had its
 * own field carried the position as their causation id.
 */
export function sourcePositionOf(metadata: Metadata): bigint | null {
  const own = metadata.sourcePosition;
  if (typeof own === 'string' && /^\d+$/.test(own)) return BigInt(own);
  const older: JsonValue | undefined = metadata.causationId;
  return typeof older === 'string' && /^\d+$/.test(older) ? BigInt(older) : null;
}
