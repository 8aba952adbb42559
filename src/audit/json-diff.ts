import type { JsonValue } from '../stores/event-store/port.js';

/** One difference between two JSON values, at a path of object keys and array indexes. */
export interface JsonChange {
  readonly op: 'added' | 'removed' | 'changed';
  readonly path: readonly (string | number)[];
  /** Absent (undefined) when the path was added. */
  readonly before?: JsonValue;
  /** Absent (undefined) when the path was removed. */
  readonly after?: JsonValue;
}

const isObject = (v: JsonValue | undefined): v is { [key: string]: JsonValue } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The structural difference between two JSON values, as the changes that turn `before` into `after`:
 * objects compared key by key (keys in `after`'s order, then the removed ones), arrays index by index
 * (an element inserted in the middle shows as the following ones changed and one added at the end),
 * anything else (a scalar, or a change of kind) as one change with both values. Equal values give no
 * change. Pure.
 */
export function diffJson(before: JsonValue, after: JsonValue): JsonChange[] {
  const changes: JsonChange[] = [];
  walk(before, after, [], changes);
  return changes;
}

function walk(before: JsonValue, after: JsonValue, path: (string | number)[], changes: JsonChange[]): void {
  if (before === after) return;
  if (isObject(before) && isObject(after)) {
    for (const key of Object.keys(after)) {
      if (Object.hasOwn(before, key)) walk(before[key]!, after[key]!, [...path, key], changes);
      else changes.push({ op: 'added', path: [...path, key], after: after[key]! });
    }
    for (const key of Object.keys(before))
      if (!Object.hasOwn(after, key))
        changes.push({ op: 'removed', path: [...path, key], before: before[key]! });
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const common = Math.min(before.length, after.length);
    for (let i = 0; i < common; i++) walk(before[i]!, after[i]!, [...path, i], changes);
    for (let i = common; i < after.length; i++)
      changes.push({ op: 'added', path: [...path, i], after: after[i]! });
    for (let i = common; i < before.length; i++)
      changes.push({ op: 'removed', path: [...path, i], before: before[i]! });
    return;
  }
  // Scalars (NaN cannot occur: JSON has none), or a change of kind.
  changes.push({ op: 'changed', path, before, after });
}

/** A path as an RFC 6901 JSON Pointer (`/context/alerts/cpu|7/status`). */
export function jsonPointer(path: readonly (string | number)[]): string {
  return path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/**
 * A value as plain JSON: what `JSON.stringify` keeps (undefined and functions dropped), 64-bit
 * integers (bigint) as decimal strings.
 */
export function toJson(value: unknown): JsonValue {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
}
