import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffJson, type JsonChange, jsonPointer, toJson } from '../../../src/audit/json-diff.js';
import type { JsonValue } from '../../../src/stores/event-store/port.js';

/** Applies changes to a copy of `value`: what a client does to move a state forward. */
function apply(value: JsonValue, changes: readonly JsonChange[]): JsonValue {
  let root = structuredClone(value);
  for (const change of changes) {
    if (change.path.length === 0) {
      root = structuredClone(change.after ?? null);
      continue;
    }
    let parent = root as Record<string | number, JsonValue>;
    for (const key of change.path.slice(0, -1)) parent = parent[key] as Record<string | number, JsonValue>;
    const last = change.path[change.path.length - 1]!;
    if (change.op === 'removed') {
      if (Array.isArray(parent)) parent.length = Math.min(parent.length, Number(last));
      else delete parent[last];
    } else {
      // An own property even for a key like `__proto__` (an assignment would set the prototype).
      Object.defineProperty(parent, last, {
        value: structuredClone(change.after!),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return root;
}

describe('diffJson', () => {
  it('finds nothing between equal values', () => {
    expect(diffJson({ a: [1, { b: null }], c: 'x' }, { a: [1, { b: null }], c: 'x' })).toEqual([]);
    expect(diffJson(3, 3)).toEqual([]);
  });

  it('names added, removed and changed keys with their values', () => {
    const before = { status: 'pending', alerts: { 'cpu|1': { value: 1 } }, gone: true };
    const after = { status: 'firing', alerts: { 'cpu|1': { value: 2 }, 'cpu|2': { value: 5 } } };
    expect(diffJson(before, after)).toEqual([
      { op: 'changed', path: ['status'], before: 'pending', after: 'firing' },
      { op: 'changed', path: ['alerts', 'cpu|1', 'value'], before: 1, after: 2 },
      { op: 'added', path: ['alerts', 'cpu|2'], after: { value: 5 } },
      { op: 'removed', path: ['gone'], before: true },
    ]);
  });

  it('compares arrays index by index', () => {
    expect(diffJson({ v: [1, 2] }, { v: [1, 3, 4] })).toEqual([
      { op: 'changed', path: ['v', 1], before: 2, after: 3 },
      { op: 'added', path: ['v', 2], after: 4 },
    ]);
    expect(diffJson([1, 2, 3], [1])).toEqual([
      { op: 'removed', path: [1], before: 2 },
      { op: 'removed', path: [2], before: 3 },
    ]);
  });

  it('reports a change of kind, or of a whole scalar root, as one change', () => {
    expect(diffJson({ a: { b: 1 } }, { a: [1] })).toEqual([
      { op: 'changed', path: ['a'], before: { b: 1 }, after: [1] },
    ]);
    expect(diffJson({ a: null }, { a: {} })).toEqual([
      { op: 'changed', path: ['a'], before: null, after: {} },
    ]);
    expect(diffJson('x', 'y')).toEqual([{ op: 'changed', path: [], before: 'x', after: 'y' }]);
  });

  it('gives changes that turn any value into any other', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const before = toJson(a);
        const after = toJson(b);
        expect(apply(before, diffJson(before, after))).toEqual(after);
        expect(diffJson(after, after)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});

describe('jsonPointer and toJson', () => {
  it('escapes keys as RFC 6901 says', () => {
    expect(jsonPointer(['context', 'alerts', 'a/b~c', 0])).toBe('/context/alerts/a~1b~0c/0');
    expect(jsonPointer([])).toBe('');
  });

  it('keeps what JSON keeps, and 64-bit integers as strings', () => {
    expect(toJson({ a: 1n, b: undefined, c: [new Date(0)] })).toEqual({
      a: '1',
      c: ['1970-01-01T00:00:00.000Z'],
    });
    expect(toJson(undefined)).toBeNull();
  });
});
