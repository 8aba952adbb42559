import { createHmac } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { z } from 'zod';
import type { Labels } from './kinds.js';

/**
 * Anonymisation at ingest: labels dropped or hashed by name, and label values that look like personal
 * data (e-mail addresses, IP addresses, or any pattern given) hashed or dropped wherever they appear.
 * A hash is keyed: the first 16 hex digits of HMAC-SHA-256 under a secret from the environment, so a
 * value cannot be recovered by hashing guesses without the secret. The same value hashes the same
 * under one secret (across restarts), differently under another.
 */

/** The built-in patterns of personal data, and a rule's own regular expression. */
export const VALUE_PATTERNS = {
  email: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g,
  ipv4: /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/g,
  /** Candidates only (hex digits, colons and dots, standing alone): each is checked with `isIPv6`. */
  ipv6: /(?<![\w:.])[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?![\w:.])/g,
} as const;

/** What a pattern's match must also be (times like 12:30:45 and `std::` are not addresses). */
const VALIDATORS: Partial<Record<string, (match: string) => boolean>> = { ipv6: (m) => isIPv6(m) };

export const ValueRule = z
  .object({
    /** `email`, `ipv4`, `ipv6`, or `/regex/`. */
    pattern: z.string().refine(
      (p) => {
        if (p in VALUE_PATTERNS) return true;
        if (!(p.startsWith('/') && p.endsWith('/') && p.length > 2)) return false;
        try {
          new RegExp(p.slice(1, -1), 'g');
          return true;
        } catch {
          return false;
        }
      },
      { message: 'must be email, ipv4, ipv6 or a /regular expression/' },
    ),
    /** `hash`: each match in a value is replaced by its hash; `drop`: a label whose value has a match is dropped. */
    action: z.enum(['hash', 'drop']),
  })
  .strict();
export type ValueRule = z.infer<typeof ValueRule>;

export interface PrivacyRules {
  /** Labels removed at ingest. */
  readonly dropLabels: readonly string[];
  /** Labels whose whole values are replaced by their keyed hash. */
  readonly hashLabels: readonly string[];
  /** Patterns hashed or dropped in every label value. */
  readonly valueRules: readonly ValueRule[];
  /** The key of the hashes (required when anything is hashed). */
  readonly secret: string;
}

export const NO_PRIVACY_RULES: PrivacyRules = { dropLabels: [], hashLabels: [], valueRules: [], secret: '' };

/** Whether the rules hash anything (and so need a secret). */
export const hashes = (rules: Pick<PrivacyRules, 'hashLabels' | 'valueRules'>): boolean =>
  rules.hashLabels.length > 0 || rules.valueRules.some((r) => r.action === 'hash');

/** The keyed hash of a value: the first 16 hex digits of HMAC-SHA-256 under `secret`. */
export function keyedHash(secret: string, value: string): string {
  return createHmac('sha256', secret).update(value).digest('hex').slice(0, 16);
}

const regexOf = (pattern: string): RegExp =>
  pattern in VALUE_PATTERNS
    ? new RegExp(VALUE_PATTERNS[pattern as keyof typeof VALUE_PATTERNS].source, 'g')
    : new RegExp(pattern.slice(1, -1), 'g');

/** The rules, ready to apply many times (patterns compiled once). */
export function compilePrivacy(rules: PrivacyRules): (labels: Labels) => Labels {
  if (rules.dropLabels.length === 0 && rules.hashLabels.length === 0 && rules.valueRules.length === 0)
    return (labels) => labels;
  if (hashes(rules) && !rules.secret)
    throw new Error('privacy rules hash label values but no secret is set (PRIVACY_HASH_SECRET)');
  const drop = new Set(rules.dropLabels);
  const hash = new Set(rules.hashLabels);
  const valueRules = rules.valueRules.map((r) => ({
    regex: regexOf(r.pattern),
    valid: VALIDATORS[r.pattern] ?? (() => true),
    action: r.action,
  }));
  const cache = new Map<string, string>();
  const hashed = (value: string) => {
    let h = cache.get(value);
    if (h === undefined) {
      h = keyedHash(rules.secret, value);
      if (cache.size > 100_000) cache.clear();
      cache.set(value, h);
    }
    return h;
  };
  return (labels) => {
    const out: Record<string, string> = {};
    next: for (const [key, value] of Object.entries(labels)) {
      if (drop.has(key)) continue;
      if (hash.has(key)) {
        out[key] = hashed(value);
        continue;
      }
      let v = value;
      for (const rule of valueRules) {
        rule.regex.lastIndex = 0;
        const found = v.match(rule.regex)?.some(rule.valid) ?? false;
        if (!found) continue;
        if (rule.action === 'drop') continue next;
        rule.regex.lastIndex = 0;
        v = v.replace(rule.regex, (match) => (rule.valid(match) ? hashed(match) : match));
      }
      out[key] = v;
    }
    return out;
  };
}

/** Applies the privacy rules to one label set (see `compilePrivacy` to apply them many times). */
export function anonymise(labels: Labels, rules: PrivacyRules): Labels {
  return compilePrivacy(rules)(labels);
}
