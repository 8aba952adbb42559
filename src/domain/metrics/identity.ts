import { createHash } from 'node:crypto';
import type { Labels, MetricKind, SeriesDef, SeriesRole } from './kinds.js';

/** Metric names: Prometheus form, plus the `.`, `-` and `/` of OpenTelemetry instrument names. */
export const METRIC_NAME = /^[A-Za-z_:][A-Za-z0-9_:./-]*$/;
/** Label names: Prometheus form, plus `.` for OpenTelemetry attribute keys. */
export const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
export const MAX_NAME_LENGTH = 255;
export const MAX_LABEL_VALUE_LENGTH = 1024;
export const MAX_LABELS = 64;

/** Labels sorted by name: the canonical form that identity and storage use. */
export function sortLabels(labels: Labels): Labels {
  const keys = Object.keys(labels).sort();
  const out: Record<string, string> = {};
  for (const key of keys) out[key] = labels[key]!;
  return out;
}

/** `name{a="1",b="2"}` with labels sorted: the series' canonical key. */
export function seriesKey(name: string, labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let key = name;
  if (keys.length) key += `{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
  return key;
}

/** A stable 64-bit id for a series: the first 8 bytes of the SHA-256 of its canonical key, as decimal. */
export function seriesId(name: string, labels: Labels): string {
  const digest = createHash('sha256').update(seriesKey(name, labels)).digest();
  return digest.readBigUInt64BE(0).toString();
}

export function defineSeries(input: {
  name: string;
  labels: Labels;
  kind: MetricKind;
  role?: SeriesRole;
  family?: string;
  unit?: string;
}): SeriesDef {
  const labels = sortLabels(input.labels);
  return {
    id: seriesId(input.name, labels),
    name: input.name,
    labels,
    kind: input.kind,
    role: input.role ?? 'value',
    family: input.family ?? input.name,
    unit: input.unit ?? '',
  };
}
