import type { Labels } from '../metrics/kinds.js';
import type { SeriesMatcher } from './definition.js';

const cache = new Map<string, RegExp>();

/** `*` globs and `/regex/` patterns, anchored. */
export function patternToRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    re =
      pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/')
        ? new RegExp(pattern.slice(1, -1))
        : new RegExp(
            `^${pattern
              .split('*')
              .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
              .join('.*')}$`,
          );
    cache.set(pattern, re);
  }
  return re;
}

export function matches(matcher: SeriesMatcher, name: string, labels: Labels): boolean {
  if (matcher.name !== undefined && !patternToRegExp(matcher.name).test(name)) return false;
  for (const [key, pattern] of Object.entries(matcher.labels ?? {})) {
    const value = labels[key];
    if (value === undefined || !patternToRegExp(pattern).test(value)) return false;
  }
  return true;
}
