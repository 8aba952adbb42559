import { z } from 'zod';

/**
 * The learning coordinator's facts, as they stand in its stream (`coordinator-main`): which models it
 * watches and with what policy, what it measured (degradation, input drift), the retrainings it asked
 * for (one at a time per model; a trigger arriving meanwhile is merged or deferred, with its reason)
 * and its promotion decisions with their evidence.
 */
export const COORDINATOR_EVENT_SCHEMA_VERSION = 1;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const modelId = z.string().min(1).max(200);
const evidence = z.record(z.string(), z.unknown());
export const TriggerReason = z.enum(['degradation', 'drift', 'schedule']);
export type TriggerReason = z.infer<typeof TriggerReason>;

export const CoordinatorPolicy = z.object({
  /** Degraded when the recent error exceeds the baseline by this factor. */
  degradationFactor: finite.refine((v) => v > 1, 'must be above 1'),
  /** Retrain every this many ms (0: never on a schedule). */
  scheduleMs: z.number().int().min(0),
  /** A trigger within this many ms of the last one is deferred, not acted on. */
  debounceMs: z.number().int().min(0),
});
export type CoordinatorPolicy = z.infer<typeof CoordinatorPolicy>;

export const CoordinatorEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('modelWatched'), modelId, policy: CoordinatorPolicy, at: z.number().int() }),
  z.object({ type: z.literal('modelUnwatched'), modelId, at: z.number().int() }),
  z.object({
    type: z.literal('degradationDetected'),
    modelId,
    version: z.number().int().positive(),
    baseline: finite,
    recent: finite,
    ratio: finite,
    factor: finite,
    rows: z.number().int(),
    from: z.number().int(),
    to: z.number().int(),
  }),
  z.object({
    type: z.literal('driftDetected'),
    modelId,
    version: z.number().int().positive(),
    /** PSI of each feature column between the training window and the recent one. */
    psi: z.record(z.string(), finite),
    threshold: finite,
  }),
  z.object({
    type: z.literal('retrainingTriggered'),
    modelId,
    /** The version the training run will make. */
    version: z.number().int().positive(),
    reason: TriggerReason,
    evidence,
    at: z.number().int(),
  }),
  z.object({
    type: z.literal('triggerMerged'),
    modelId,
    reason: TriggerReason,
    /** The pending run it was merged into. */
    into: z.number().int().positive(),
    at: z.number().int(),
  }),
  z.object({
    type: z.literal('triggerDeferred'),
    modelId,
    reason: TriggerReason,
    /** Why it was not acted on now (the debounce window since the last trigger). */
    why: z.string().max(500),
    at: z.number().int(),
  }),
  z.object({
    type: z.literal('promotionDecided'),
    modelId,
    version: z.number().int().positive(),
    against: z.number().int().positive(),
    better: z.boolean(),
    evidence,
    at: z.number().int(),
  }),
]);
export type CoordinatorEvent = z.infer<typeof CoordinatorEvent>;

export interface CoordinatorState {
  readonly id: string;
  readonly watched: Readonly<Record<string, { policy: CoordinatorPolicy; watchedAt: number }>>;
  /** The run asked for per model, until its promotion is decided. */
  readonly pending: Readonly<Record<string, { version: number; reason: TriggerReason; at: number }>>;
  readonly lastTriggerAt: Readonly<Record<string, number>>;
  /** Reasons already merged or deferred since the model's last trigger (each recorded once). */
  readonly held: Readonly<Record<string, readonly TriggerReason[]>>;
  readonly decisions: number;
}

export const initialCoordinator = (id: string): CoordinatorState => ({
  id,
  watched: {},
  pending: {},
  lastTriggerAt: {},
  held: {},
  decisions: 0,
});

const without = <V>(record: Readonly<Record<string, V>>, key: string): Record<string, V> => {
  const { [key]: _, ...rest } = record;
  return rest;
};

/** The pure fold of the coordinator's facts. */
export function evolveCoordinator(state: CoordinatorState, event: CoordinatorEvent): CoordinatorState {
  switch (event.type) {
    case 'modelWatched':
      return {
        ...state,
        watched: { ...state.watched, [event.modelId]: { policy: event.policy, watchedAt: event.at } },
      };
    case 'modelUnwatched':
      return { ...state, watched: without(state.watched, event.modelId) };
    case 'retrainingTriggered':
      return {
        ...state,
        pending: {
          ...state.pending,
          [event.modelId]: { version: event.version, reason: event.reason, at: event.at },
        },
        lastTriggerAt: { ...state.lastTriggerAt, [event.modelId]: event.at },
        held: without(state.held, event.modelId),
      };
    case 'triggerMerged':
    case 'triggerDeferred':
      return {
        ...state,
        held: { ...state.held, [event.modelId]: [...(state.held[event.modelId] ?? []), event.reason] },
      };
    case 'promotionDecided':
      return { ...state, pending: without(state.pending, event.modelId), decisions: state.decisions + 1 };
    default:
      return state;
  }
}
