import { z } from 'zod';
import { ACTOR_CACHE_FACTS } from './actor-cache/facts.js';
import { AgentEvent } from './agent/events.js';
import { AlertEvent } from './alerting/events.js';
import { COMPLEX_FACTS, COMPLEX_STATE_FACTS } from './analytics/complex-events.js';
import { ACCESS_FACTS, API_KEY_FACTS } from './auth/events.js';
import { ComplexRulesEvent } from './configuration/complex-rules.js';
import { PROJECTION_FACTS } from './configuration/projections.js';
import { ScrapeConfigEvent } from './configuration/scrape-targets.js';
import { CoordinatorEvent } from './coordinator/events.js';
import { FORECAST_FACTS } from './forecasting/forecasts.js';
import { ForecastRulesEvent } from './forecasting/rules.js';
import { LearningPipelineEvent } from './learning-pipeline/events.js';
import { BatchPayload } from './metrics/batch.js';
import { INGEST_FACTS } from './metrics/eviction.js';
import { ModelEvent } from './model/events.js';
import { PREDICTION_FACTS, SCORER_FACTS } from './model/predictions.js';
import { PipelineEvent } from './pipeline/events.js';
import { FINDING_FACTS, PIPELINE_STATE_FACTS } from './pipeline/findings.js';
import { RECOMMENDATION_FACTS } from './recommendations/facts.js';
import { DELETION_FACTS, RETENTION_FACTS } from './retention/facts.js';

/**
 * The catalogue of facts: for every event type in the log, the one zod schema of its payload, the
 * stream category it is written to, and its current schema version. Readers parse with `readFact`
 * (upcasting older versions first); writers check with `checkFact`. Nothing else declares a payload.
 */

type AnyObject = z.ZodObject<z.ZodRawShape>;

/** A discriminated union of `{ type, ...payload }` as payload schemas by type (the log stores the type apart). */
function membersOf<U extends z.ZodDiscriminatedUnion<readonly AnyObject[]>>(union: U) {
  const out: Record<string, z.ZodType> = {};
  for (const option of union.options as readonly AnyObject[]) {
    const literal = option.shape.type as z.ZodLiteral<string>;
    out[literal.value] = option.omit({ type: true } as never);
  }
  return out as {
    [T in z.infer<U>['type'] & string]: z.ZodType<Omit<Extract<z.infer<U>, { type: T }>, 'type'>, unknown>;
  };
}

const byCategory = <C extends string, S extends Record<string, z.ZodType>>(category: C, schemas: S) =>
  Object.fromEntries(Object.entries(schemas).map(([type, schema]) => [type, { category, schema }])) as {
    [T in keyof S]: { readonly category: C; readonly schema: S[T] };
  };

export const FACTS = {
  ...byCategory('samples', { batchFlushed: BatchPayload }),
  ...byCategory('ingest', INGEST_FACTS),
  ...byCategory('retention', RETENTION_FACTS),
  ...byCategory('deletion', DELETION_FACTS),
  ...byCategory('agent', membersOf(AgentEvent)),
  ...byCategory('pipeline', membersOf(PipelineEvent)),
  ...byCategory('findings', FINDING_FACTS),
  ...byCategory('pipelinestate', PIPELINE_STATE_FACTS),
  ...byCategory('alertmanager', membersOf(AlertEvent)),
  ...byCategory('complex', COMPLEX_FACTS),
  ...byCategory('complexstate', COMPLEX_STATE_FACTS),
  ...byCategory('complexrules', membersOf(ComplexRulesEvent)),
  ...byCategory('scrapeconfig', membersOf(ScrapeConfigEvent)),
  ...byCategory('forecastrules', membersOf(ForecastRulesEvent)),
  ...byCategory('forecasts', FORECAST_FACTS),
  ...byCategory('projection', PROJECTION_FACTS),
  ...byCategory('model', membersOf(ModelEvent)),
  ...byCategory('coordinator', membersOf(CoordinatorEvent)),
  ...byCategory('learningpipeline', membersOf(LearningPipelineEvent)),
  ...byCategory('scorers', SCORER_FACTS),
  ...byCategory('predictions', PREDICTION_FACTS),
  ...byCategory('recommendations', RECOMMENDATION_FACTS),
  ...byCategory('apikeys', API_KEY_FACTS),
  ...byCategory('access', ACCESS_FACTS),
  /** The actor host's caches (snapshots, the in-flight index): not domain facts, see actor-cache/facts.ts. */
  ...byCategory('actorcache', ACTOR_CACHE_FACTS),
  /** The first event of EventStoreDB's `storeidentity-main`: the store's epoch. */
  ...byCategory('storeidentity', { storeCreated: z.object({ epoch: z.string() }) }),
};

export type FactType = keyof typeof FACTS;
export type FactData<T extends FactType> = z.output<(typeof FACTS)[T]['schema']>;
/** A fact as its readers see it: its type and its parsed payload. */
export type Fact = { [T in FactType]: { readonly type: T; readonly data: FactData<T> } }[FactType];

/**
 * Upcasters: how a payload of an older schema version becomes the next one, by type and by the
 * version it comes from. The one place older facts are read.
 */
const UPCASTERS: {
  readonly [T in FactType]?: Readonly<Record<number, (data: Record<string, unknown>) => unknown>>;
} = {
  // Version 1 anomalies were recorded before windows were part of them.
  anomalyDetected: { 1: (d) => ({ window: '', windows: [], ...d }) },
};

/** The schema version a fact of this type is written with now. */
export function factVersion(type: FactType): number {
  const steps = UPCASTERS[type];
  return 1 + (steps ? Object.keys(steps).length : 0);
}

export function isFactType(type: string): type is FactType {
  return Object.hasOwn(FACTS, type);
}

/** A fact whose payload is not what its schema says: a writer's bug, never skipped in silence. */
export class PoisonedFactError extends Error {
  readonly code = 'POISONED_FACT' as const;
  constructor(
    readonly where: string,
    readonly type: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    super(
      `${where} (${type}) does not match its schema: ${issues
        .slice(0, 5)
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}${issues.length > 5 ? `; and ${issues.length - 5} more` : ''}`,
    );
    this.name = 'PoisonedFactError';
  }
}

function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

/** What a stored event offers to be read as a fact (the store's RecordedEvent has all of it). */
export interface StoredEvent {
  readonly type: string;
  readonly streamId: string;
  readonly position: bigint;
  readonly data: unknown;
  readonly metadata: { readonly [key: string]: unknown };
}

/**
 * Reads an event as a fact: upcasts a payload of an older schema version, then parses it with its
 * schema. Throws PoisonedFactError when it does not match (or its type is unknown).
 */
export function readFact(event: StoredEvent): Fact {
  const where = `event at position ${event.position} of ${event.streamId}`;
  if (!isFactType(event.type))
    throw new PoisonedFactError(where, event.type, [{ path: 'type', message: 'unknown fact type' }]);
  const stored = event.metadata.schemaVersion;
  let data = event.data;
  const steps = UPCASTERS[event.type];
  if (steps) {
    for (let version = typeof stored === 'number' ? stored : 1; steps[version]; version++) {
      if (typeof data !== 'object' || data === null || Array.isArray(data)) break;
      data = steps[version]!(data as Record<string, unknown>);
    }
  }
  const parsed = FACTS[event.type].schema.safeParse(data);
  if (!parsed.success) throw new PoisonedFactError(where, event.type, issuesOf(parsed.error));
  return { type: event.type, data: parsed.data } as Fact;
}

/** Reads an event that must be a fact of one of these types. */
export function readFactOf<T extends FactType>(
  event: StoredEvent,
  ...types: readonly T[]
): Extract<Fact, { type: T }> {
  const fact = readFact(event);
  if (!(types as readonly string[]).includes(fact.type))
    throw new PoisonedFactError(`event at position ${event.position} of ${event.streamId}`, event.type, [
      { path: 'type', message: `expected ${types.join(' or ')}` },
    ]);
  return fact as Extract<Fact, { type: T }>;
}

/**
 * Checks a payload before it is written, against the same schema its readers use; throws
 * PoisonedFactError naming the fields, so a bad fact never reaches the log.
 */
export function checkFact<T extends FactType>(type: T, data: unknown): FactData<T> {
  const parsed = FACTS[type].schema.safeParse(data);
  if (!parsed.success) throw new PoisonedFactError(`a new ${type}`, type, issuesOf(parsed.error));
  return parsed.data as FactData<T>;
}
