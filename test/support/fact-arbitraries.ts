import fc from 'fast-check';
import { z } from 'zod';
import { FACTS, type FactType } from '../../src/domain/facts.js';
import { LearningPipelineDefinition } from '../../src/domain/learning-pipeline/definition.js';
import { BatchPayload, encodeBatch, type SampleBatch } from '../../src/domain/metrics/batch.js';
import type { SeriesDef } from '../../src/domain/metrics/kinds.js';
import { PipelineDefinition, Stage } from '../../src/domain/pipeline/definition.js';
import { TimeMs, UInt64Text } from '../../src/domain/primitives.js';
import { ALGORITHM_NAMES } from '../../src/learning/algorithm.js';

/**
 * fast-check arbitraries for the facts' payloads: a small converter from the zod v4 schemas of the
 * catalogue, biased towards the edges (empty arrays and maps, extreme and tiny numbers, -0, unicode),
 * and hand-written arbitraries for the few payloads whose refinements a schema walk cannot satisfy.
 */

/** What this converter reads of zod v4's internal definitions (`schema._zod.def`). */
interface Def {
  readonly type: string;
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly catchall?: z.ZodType;
  readonly element?: z.ZodType;
  readonly innerType?: z.ZodType;
  readonly keyType?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly items?: readonly z.ZodType[];
  readonly entries?: Readonly<Record<string, string | number>>;
  readonly values?: readonly unknown[];
  readonly checks?: readonly { readonly _zod: { readonly def: Check } }[];
}

interface Check {
  readonly check: string;
  readonly value?: number | bigint;
  readonly inclusive?: boolean;
  readonly format?: string;
  readonly pattern?: RegExp;
  readonly minimum?: number;
  readonly maximum?: number;
}

const defOf = (schema: z.ZodType) => schema._zod.def as unknown as Def;
const checksOf = (def: Def) => (def.checks ?? []).map((c) => c._zod.def);

/** Strings that have broken serialisers before: empty, accents, CJK, emoji, quotes, escapes, NUL. */
const AWKWARD_TEXT = ['', 'é', '日本', '🚀', 'ünï cødé 🎉', 'a"b\\c\'d', 'tab\tline\nbreak', '\u0000'];

/** Finite numbers at the edges of what a double holds. */
const EXTREME_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.1,
  5e-324,
  -5e-324,
  1e-308,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  2 ** 31,
  2 ** 32,
];

function stringArbitrary(checks: readonly Check[]): fc.Arbitrary<string> {
  let min = 0;
  let max = Number.POSITIVE_INFINITY;
  let pattern: RegExp | undefined;
  for (const c of checks) {
    if (c.check === 'min_length') min = c.minimum!;
    else if (c.check === 'max_length') max = c.maximum!;
    else if (c.check === 'string_format' && c.format === 'regex') pattern = c.pattern;
    else if (c.check !== 'custom')
      throw new Error(`no arbitrary for the string check ${c.format ?? c.check}`);
  }
  const base = pattern
    ? fc.stringMatching(pattern, { maxLength: Math.min(max, 40) })
    : fc.oneof(fc.constantFrom(...AWKWARD_TEXT), fc.string({ unit: 'grapheme', maxLength: 12 }));
  return base.filter((s) => s.length >= min && s.length <= max);
}

function numberArbitrary(checks: readonly Check[]): fc.Arbitrary<number> {
  let low = Number.NEGATIVE_INFINITY;
  let high = Number.POSITIVE_INFINITY;
  let lowIncluded = true;
  let highIncluded = true;
  let integer = false;
  for (const c of checks) {
    if (c.check === 'greater_than' && Number(c.value) >= low) {
      low = Number(c.value);
      lowIncluded = c.inclusive!;
    } else if (c.check === 'less_than' && Number(c.value) <= high) {
      high = Number(c.value);
      highIncluded = c.inclusive!;
    } else if (c.check === 'number_format') {
      if (c.format !== 'safeint') throw new Error(`no arbitrary for the number format ${c.format}`);
      integer = true;
    } else if (c.check !== 'custom') throw new Error(`no arbitrary for the number check ${c.check}`);
  }
  const fits = (x: number) =>
    (lowIncluded ? x >= low : x > low) &&
    (highIncluded ? x <= high : x < high) &&
    (!integer || Number.isSafeInteger(x));
  const edges = [...EXTREME_NUMBERS, low, high].filter((x) => Number.isFinite(x) && fits(x));
  let main: fc.Arbitrary<number>;
  if (integer) {
    const from = Math.max(Number.MIN_SAFE_INTEGER, lowIncluded ? Math.ceil(low) : Math.floor(low) + 1);
    const to = Math.min(Number.MAX_SAFE_INTEGER, highIncluded ? Math.floor(high) : Math.ceil(high) - 1);
    main = fc.oneof(
      fc.integer({ min: Math.max(from, -1000), max: Math.min(to, 1000) }),
      fc.bigInt(BigInt(from), BigInt(to)).map(Number),
    );
  } else {
    main = fc.double({
      noNaN: true,
      noDefaultInfinity: true,
      ...(Number.isFinite(low) ? { min: low, minExcluded: !lowIncluded } : {}),
      ...(Number.isFinite(high) ? { max: high, maxExcluded: !highIncluded } : {}),
    });
  }
  return edges.length ? fc.oneof(fc.constantFrom(...edges), main) : main;
}

/** Keys an object may leave out: optional ones, and those with a default. */
const omissible = (schema: z.ZodType) => ['optional', 'default'].includes(defOf(schema).type);

/** Arbitraries that replace a schema wherever it appears (by identity). */
const BY_SCHEMA = new Map<z.ZodType, fc.Arbitrary<unknown>>();

/**
 * An arbitrary of values the schema accepts (its input form: optional and defaulted keys may be
 * missing). Refinements (`.refine`) it cannot see are met by filtering with the schema itself.
 */
export function arbitraryOf(schema: z.ZodType): fc.Arbitrary<unknown> {
  const known = BY_SCHEMA.get(schema);
  if (known) return known;
  const def = defOf(schema);
  const checks = checksOf(def);
  const arbitrary = structural(def, checks);
  return checks.some((c) => c.check === 'custom')
    ? arbitrary.filter((value) => schema.safeParse(value).success)
    : arbitrary;
}

function structural(def: Def, checks: readonly Check[]): fc.Arbitrary<unknown> {
  switch (def.type) {
    case 'string':
      return stringArbitrary(checks);
    case 'number':
      return numberArbitrary(checks);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries!));
    case 'literal':
      return fc.constantFrom(...def.values!);
    case 'unknown':
      return fc.jsonValue({ maxDepth: 2 });
    case 'nullable':
      return fc.option(arbitraryOf(def.innerType!), { nil: null, freq: 4 });
    // The enclosing object leaves the key out (see `omissible`); here the value is present.
    case 'optional':
    case 'default':
      return arbitraryOf(def.innerType!);
    case 'union':
      return fc.oneof(...def.options!.map(arbitraryOf));
    case 'tuple':
      return fc.tuple(...def.items!.map(arbitraryOf));
    case 'record':
      return fc.oneof(
        fc.constant({}),
        fc.dictionary(arbitraryOf(def.keyType!) as fc.Arbitrary<string>, arbitraryOf(def.valueType!), {
          maxKeys: 4,
          noNullPrototype: true,
        }),
      );
    case 'array': {
      let min = 0;
      let max = 5;
      for (const c of checks) {
        if (c.check === 'min_length') min = c.minimum!;
        else if (c.check === 'max_length') max = Math.min(max, c.maximum!);
      }
      const items = fc.array(arbitraryOf(def.element!), { minLength: min, maxLength: Math.max(min, max) });
      return min === 0 ? fc.oneof(fc.constant([]), items) : items;
    }
    case 'object': {
      const shape = def.shape!;
      const keys = Object.keys(shape);
      const model = Object.fromEntries(keys.map((k) => [k, arbitraryOf(shape[k]!)]));
      const known = fc.record(model, { requiredKeys: keys.filter((k) => !omissible(shape[k]!)) });
      // A loose object (`catchall: unknown`) takes keys it does not declare: give it some.
      if (!def.catchall || defOf(def.catchall).type !== 'unknown') return known;
      const extra = fc.dictionary(
        fc.string({ maxLength: 6 }).map((k) => `extra_${k}`),
        arbitraryOf(def.catchall),
        { maxKeys: 3, noNullPrototype: true },
      );
      return fc.tuple(extra, known).map(([more, declared]) => ({ ...more, ...declared }));
    }
    default:
      throw new Error(`no arbitrary for the zod type ${def.type}`);
  }
}

/** UInt64 as text: up to 19 digits (always below 2^64), and the edges. */
export const uint64Text = fc.oneof(
  fc.constantFrom('0', '1', '9007199254740993', '9223372036854775808', '18446744073709551615'),
  fc.stringMatching(/^(0|[1-9]\d{0,18})$/),
);
BY_SCHEMA.set(UInt64Text, uint64Text);

const timeMs = arbitraryOf(TimeMs) as fc.Arbitrary<number>;
const finiteNumber = arbitraryOf(z.number()) as fc.Arbitrary<number>;

/** When the arbitraries were made: sample times around it stay within the samples' retention (30 days). */
export const NOW = Date.now();
const DAY = 86_400_000;

/** A sample's time: anywhere ClickHouse's DateTime64 holds (its edges too), or within days of now. */
const sampleTime = fc.oneof(
  timeMs,
  fc.integer({ min: -20 * DAY, max: 20 * DAY }).map((d) => NOW + d),
);

/** A batch of samples: up to 4 series (with unicode labels), up to 6 samples, narrow or wide columns. */
export const sampleBatch: fc.Arbitrary<SampleBatch> = fc
  .record({
    agentId: arbitraryOf(z.string()) as fc.Arbitrary<string>,
    seq: arbitraryOf(BatchPayload.shape.seq) as fc.Arbitrary<number>,
    series: fc.array(arbitraryOf(BatchPayload.shape.series.element) as fc.Arbitrary<SeriesDef>, {
      maxLength: 4,
    }),
  })
  .chain(({ agentId, seq, series }) =>
    fc
      .array(fc.tuple(fc.nat(Math.max(0, series.length - 1)), sampleTime, finiteNumber), {
        maxLength: series.length ? 6 : 0,
      })
      .map(
        (samples): SampleBatch => ({
          agentId,
          seq,
          series,
          seriesIndex: Uint32Array.from(samples.map(([i]) => i)),
          timestamps: Float64Array.from(samples.map(([, ts]) => ts)),
          values: Float64Array.from(samples.map(([, , v]) => v)),
        }),
      ),
  );

export const batchPayload = sampleBatch.map(encodeBatch);

/** A name or label pattern (globs, a regular expression, unicode). */
const pattern = fc.constantFrom('cpu', '*', 'http_*_total', 'é*', '日本', '🚀', '/^cpu_[0-9]+$/');

/** A pipeline definition as its actor records it: parsed, defaults filled in. */
const pipelineDefinition = fc
  .record(
    {
      id: fc.stringMatching(/^[a-z][a-z0-9_]{0,62}$/),
      route: fc.array(
        fc.record(
          { name: pattern, labels: fc.dictionary(arbitraryOf(z.string()) as fc.Arbitrary<string>, pattern) },
          { requiredKeys: [] },
        ),
        { minLength: 1, maxLength: 3 },
      ),
      mode: fc.constantFrom('realtime', 'microbatch', 'hybrid'),
      stages: fc.array(arbitraryOf(Stage), { maxLength: 3 }),
      analytics: fc.constantFrom(
        {},
        { minAnomalyScore: 1, periodicity: false, patterns: [] },
        { windows: [{ name: 'w', samples: 2 }], periodicity: { window: 'w', every: 16 } },
        {
          patterns: [{ name: 'spike', shape: [0, 1e308, -5e-324] }],
          windows: [{ name: 'long', ms: 1, maxSamples: 100_000 }],
        },
      ),
    },
    { requiredKeys: ['id', 'route'] },
  )
  .map((input) => PipelineDefinition.safeParse(input))
  .filter((parsed) => parsed.success)
  .map((parsed) => parsed.data);

/** Payloads whose refinements (column lengths, equal row widths, cross-field rules) the schema walk cannot meet. */
const BY_FACT: Partial<Record<FactType, fc.Arbitrary<unknown>>> = {
  batchFlushed: batchPayload,
  lateSamplesRouted: fc.record({ sourcePosition: uint64Text, batch: batchPayload }),
  pipelineDefined: fc.record({ definition: pipelineDefinition }),
  apiKeyCreated: fc.record({
    keyId: fc.stringMatching(/^[a-f0-9]{12}$/),
    name: fc.string({ minLength: 1, maxLength: 100 }),
    role: fc.constantFrom('viewer', 'operator', 'admin'),
    hash: fc.stringMatching(/^[a-f0-9]{64}$/),
    expiresAt: fc.option(fc.integer({ min: 0, max: 4_102_444_800_000 }), { nil: null }),
  }),
  apiKeyRevoked: fc.record({ keyId: fc.stringMatching(/^[a-f0-9]{12}$/) }),
  trainingSucceeded: trainingSucceeded(),
  versionRegistered: fc
    .tuple(
      trainingSucceeded(),
      fc.record({
        spec: fc.record({
          algorithm: fc.constantFrom(...ALGORITHM_NAMES),
          task: fc.constantFrom('classification', 'regression', 'clustering'),
          params: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 })),
          seed: fc.integer(),
          features: fc.constant({}),
          dataset: fc.constant({
            fromSeries: { series: [{ name: 'x' }], from: 0, to: 60_000, stepMs: 1000 },
          }),
          testFraction: fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        }),
        source: fc.record({
          pipelineId: fc.string({ minLength: 1, maxLength: 200 }),
          run: fc.integer({ min: 1, max: 1e6 }),
        }),
        updatedFrom: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: null }),
      }),
    )
    .map(([made, extra]) => ({ ...(made as object), ...extra })),
  learningPipelineDefined: fc.record({
    definition: fc
      .record(
        {
          modelId: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.:-]{0,30}$/),
          description: fc.string({ maxLength: 2000 }),
          mode: fc.constantFrom('batch', 'realtime'),
          scheduleMs: fc.integer({ min: 1, max: 2 ** 31 }),
          priority: fc.integer({ min: 0, max: 100 }),
          windowMs: fc.integer({ min: 1, max: 366 * 86_400_000 }),
          dataset: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
          training: fc.record({
            algorithm: fc.constantFrom(...ALGORITHM_NAMES),
            task: fc.constantFrom('classification', 'regression', 'clustering'),
            learningRate: fc.double({ min: 0.001, max: 1.9, noNaN: true }),
          }),
          tasks: fc.constant(undefined),
        },
        { requiredKeys: ['modelId', 'windowMs', 'dataset', 'training'] },
      )
      .map((input) => LearningPipelineDefinition.safeParse(input))
      .filter((parsed) => parsed.success)
      .map((parsed) => parsed.data),
    at: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  }),
};

/** A `trainingSucceeded` payload (and the shared part of `versionRegistered`). */
function trainingSucceeded() {
  return fc.record({
    version: fc.integer({ min: 1, max: 1000 }),
    algorithm: fc.constantFrom(...ALGORITHM_NAMES),
    implementation: fc.string({ maxLength: 20 }),
    params: fc.jsonValue({ maxDepth: 2 }),
    featureNames: fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }),
    data: fc.record({
      source: fc.constantFrom('inline', 'series'),
      series: fc.array(
        fc.record({ column: fc.string(), seriesId: fc.stringMatching(/^\d{1,19}$/), name: fc.string() }),
        { maxLength: 3 },
      ),
      from: fc.option(fc.integer({ min: 0, max: 4_102_444_800_000 }), { nil: null }),
      to: fc.option(fc.integer({ min: 0, max: 4_102_444_800_000 }), { nil: null }),
      stepMs: fc.option(fc.integer({ min: 1, max: 86_400_000 }), { nil: null }),
      rows: fc.nat(100_000),
      trainRows: fc.nat(100_000),
      testRows: fc.nat(100_000),
      trainedUntil: fc.option(fc.integer({ min: 0, max: 4_102_444_800_000 }), { nil: null }),
      hash: fc.stringMatching(/^[0-9a-f]{64}$/),
    }),
    evaluation: fc.record({
      method: fc.constant('holdout' as const),
      testRows: fc.nat(100_000),
      metrics: fc.dictionary(
        fc.string({ maxLength: 10 }),
        fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
      ),
    }),
    trainMs: fc.double({ min: 0, max: 1e6, noNaN: true }),
    artifact: fc.record({
      kind: fc.constant('file' as const),
      sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
      bytes: fc.nat(10_000_000),
    }),
  });
}

/** An arbitrary of payloads of this fact type (throws when the converter meets a schema it does not know). */
export function factArbitrary(type: FactType): fc.Arbitrary<unknown> {
  return BY_FACT[type] ?? arbitraryOf(FACTS[type].schema);
}
