import { LABEL_NAME, MAX_LABEL_VALUE_LENGTH, MAX_LABELS, MAX_NAME_LENGTH, METRIC_NAME } from './identity.js';

export interface Issue {
  /** Where the problem is, e.g. `metrics[2].labels.host` or `value`. */
  readonly path: string;
  readonly message: string;
}

export interface SampleLimits {
  /** How far in the past a sample's timestamp may be, in ms. */
  readonly maxPastMs: number;
  /** How far in the future a sample's timestamp may be, in ms. */
  readonly maxFutureMs: number;
  /** Distinct series one metric name may have. */
  readonly maxSeriesPerMetric: number;
}

export const DEFAULT_SAMPLE_LIMITS: SampleLimits = {
  maxPastMs: 24 * 3600_000,
  maxFutureMs: 5 * 60_000,
  maxSeriesPerMetric: 10_000,
};

export function checkMetricName(name: unknown, path = 'name'): Issue[] {
  if (typeof name !== 'string') return [{ path, message: 'must be a string' }];
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
    return [{ path, message: `must be 1-${MAX_NAME_LENGTH} characters` }];
  }
  if (!METRIC_NAME.test(name)) {
    return [{ path, message: `'${name}' must match ${METRIC_NAME.source} (letters, digits, _ : . - /)` }];
  }
  return [];
}

export function checkLabels(labels: unknown, path = 'labels'): Issue[] {
  if (labels === undefined) return [];
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    return [{ path, message: 'must be an object of label names to string values' }];
  }
  const entries = Object.entries(labels as Record<string, unknown>);
  if (entries.length > MAX_LABELS)
    return [{ path, message: `has ${entries.length} labels; at most ${MAX_LABELS}` }];
  const issues: Issue[] = [];
  for (const [key, value] of entries) {
    if (!LABEL_NAME.test(key) || key.length > MAX_NAME_LENGTH) {
      issues.push({ path: `${path}.${key}`, message: `label name must match ${LABEL_NAME.source}` });
    } else if (key.startsWith('__')) {
      issues.push({ path: `${path}.${key}`, message: 'label names starting with __ are reserved' });
    }
    if (typeof value !== 'string')
      issues.push({ path: `${path}.${key}`, message: 'label value must be a string' });
    else if (value.length > MAX_LABEL_VALUE_LENGTH) {
      issues.push({
        path: `${path}.${key}`,
        message: `label value longer than ${MAX_LABEL_VALUE_LENGTH} characters`,
      });
    }
  }
  return issues;
}

/** NaN and ±Infinity are rejected, not stored: every stored value is a real measurement. */
export function checkValue(value: unknown, path = 'value'): Issue[] {
  if (typeof value !== 'number') return [{ path, message: 'must be a number' }];
  if (Number.isNaN(value)) return [{ path, message: 'NaN is not accepted' }];
  if (!Number.isFinite(value)) return [{ path, message: `${value > 0 ? '+' : '-'}Infinity is not accepted` }];
  return [];
}

/** A time for a message: ISO 8601 when it is one (years 0–9999), the number of ms otherwise. */
function describeTime(ms: number): string {
  return Math.abs(ms) <= 253_402_300_799_999 ? new Date(ms).toISOString() : `${ms} ms since the epoch`;
}

export function checkTimestamp(ts: unknown, now: number, limits: SampleLimits, path = 'timestamp'): Issue[] {
  if (typeof ts !== 'number' || !Number.isFinite(ts))
    return [{ path, message: 'must be a finite number of ms since the epoch' }];
  if (ts < now - limits.maxPastMs) {
    return [{ path, message: `${describeTime(ts)} is more than ${limits.maxPastMs / 1000}s in the past` }];
  }
  if (ts > now + limits.maxFutureMs) {
    return [
      {
        path,
        message: `${describeTime(ts)} is more than ${limits.maxFutureMs / 1000}s in the future`,
      },
    ];
  }
  return [];
}
