import type { SchemaTypes } from '@pothos/core';
import type { z } from 'zod';
import type { ConfigEntry } from '../../domain/configuration/entry.js';
import { parseOrThrow, ValidationError } from '../../domain/errors.js';
import { builder, LabelInput, type LabelShape } from '../builder.js';
import { JSONObject } from '../json.js';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T extends SchemaTypes> ? T : never;
type JsonObject = Record<string, unknown>;

export const ConfigStatus = builder.enumType('ConfigStatus', {
  values: ['active', 'paused', 'deleted'] as const,
  description:
    'active: in force; paused: kept, not in force until resumed; deleted: gone (its history stays).',
});

export const ChangeOrigin = builder.enumType('ConfigChangeOrigin', {
  values: ['api', 'seed'] as const,
  description: 'api: a caller changed it; seed: a settings file (PIPELINES_FILE, …) set it at start.',
});

/** The fields every configuration entry has: its definition, status and last change (who, when, from where). */
export function entryFields<P>(
  t: PothosSchemaTypes.ObjectFieldBuilder<Types, P>,
  entryOf: (parent: P) => ConfigEntry<unknown>,
) {
  return {
    status: t.field({ type: ConfigStatus, resolve: (p) => entryOf(p).status }),
    definition: t.field({
      type: JSONObject,
      description:
        'The definition in force (a deleted entry shows its last one), with every default filled in.',
      resolve: (p) => entryOf(p).definition as JsonObject,
    }),
    version: t.int({ description: 'How many changes it has had.', resolve: (p) => entryOf(p).version }),
    createdAt: t.field({ type: 'DateTime', resolve: (p) => entryOf(p).createdAt }),
    createdBy: t.string({ resolve: (p) => entryOf(p).createdBy }),
    updatedAt: t.field({ type: 'DateTime', resolve: (p) => entryOf(p).updatedAt }),
    updatedBy: t.string({
      description: 'The principal of its last change.',
      resolve: (p) => entryOf(p).updatedBy,
    }),
    origin: t.field({
      type: ChangeOrigin,
      description: 'Where its last change came from.',
      resolve: (p) => entryOf(p).origin,
    }),
  };
}

/** Only what is still in force unless deleted ones are asked for. */
export const visible = <T extends { readonly status: string }>(
  entries: readonly T[],
  includeDeleted: boolean | null | undefined,
) => (includeDeleted ? [...entries] : entries.filter((e) => e.status !== 'deleted'));

/** A ValidationError naming one input field and the reason. */
export const invalid = (path: string, message: string) =>
  new ValidationError(`${path}: ${message}`, [{ path, message }]);

/** Parses an input with its zod schema; a ValidationError names every field at fault (`input.condition.value`). */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, field: string): z.output<S> {
  return parseOrThrow(schema, value, { path: field });
}

/** Label pairs as a record; a name given twice is refused. */
export function labelsOf(labels: readonly LabelShape[] | null | undefined, field: string) {
  if (!labels) return undefined;
  const out: Record<string, string> = {};
  for (const [i, { name, value }] of labels.entries()) {
    if (name in out) throw invalid(`${field}.${i}.name`, `'${name}' is given twice`);
    out[name] = value;
  }
  return out;
}

/** An object without the keys whose value is null or undefined (GraphQL's "not given"). */
export function defined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== null && v !== undefined));
}

export const SeriesMatcherInput = builder.inputType('SeriesMatcherInput', {
  description: 'Which series: a name pattern and label patterns (`*` globs, or `/regex/`).',
  fields: (t) => ({
    name: t.string(),
    labels: t.field({ type: [LabelInput] }),
  }),
});

/** A series matcher input as the domain's matcher (absent parts left out). */
export function matcherOf(
  input: { name?: string | null; labels?: readonly LabelShape[] | null },
  field: string,
): Record<string, unknown> {
  return defined({ name: input.name, labels: labelsOf(input.labels, `${field}.labels`) });
}
