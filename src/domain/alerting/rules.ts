import { z } from 'zod';
import { SeriesMatcher } from '../pipeline/definition.js';

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const severityRank = (s: Severity) => SEVERITIES.indexOf(s);

const duration = z
  .number()
  .int()
  .nonnegative()
  .max(30 * 86_400_000);

export const AlertCondition = z.discriminatedUnion('type', [
  z.object({ type: z.literal('threshold'), op: z.enum(['>', '>=', '<', '<=']), value: z.number() }),
  /** Fires on anomaly findings whose calibrated score reaches `min`. */
  z.object({ type: z.literal('anomalyScore'), min: z.number().min(0).max(1) }),
  /**
   * Fires when a matching series has sent nothing for `forMs` (evaluated on ticks). With
   * `missedIntervals`, only series with a regular cadence are watched, and the silence must also
   * last that many of their intervals (`forMs` is then the least silence that counts).
   */
  z.object({ type: z.literal('absence'), missedIntervals: z.number().int().min(2).max(1000).optional() }),
  /** Fires when the value changes faster than `perSecond` (either way). */
  z.object({ type: z.literal('rateOfChange'), perSecond: z.number().positive() }),
  /** Fires on pattern matches (template-matching findings) named `pattern`. */
  z.object({ type: z.literal('pattern'), pattern: z.string().min(1) }),
  /**
   * Fires on complex events raised by the complex-event rule `rule`; the rule's \`match\` sees the
   * complex rule's id as the name and its group as the labels.
   */
  z.object({ type: z.literal('complexEvent'), rule: z.string().min(1) }),
]);
export type AlertCondition = z.infer<typeof AlertCondition>;

export const AlertRule = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be lower-case letters, digits and _'),
    match: SeriesMatcher,
    condition: AlertCondition,
    severity: z.enum(SEVERITIES),
    /** The condition must hold this long before the alert fires (absence: the silence it must last). */
    forMs: duration.default(0),
    /** Alerts of this rule sharing these labels' values are notified together. */
    groupBy: z.array(z.string()).default([]),
    /** Not acknowledged this long after firing: notify again at `to`. */
    escalation: z
      .object({ afterMs: duration.refine((v) => v > 0, 'must be positive'), to: z.enum(SEVERITIES) })
      .optional(),
    summary: z.string().max(500).default(''),
    /** Finding-based rules (anomaly score, pattern) resolve after this long without a new finding. */
    resolveAfterMs: duration.refine((v) => v > 0, 'must be positive').default(300_000),
  })
  .refine((r) => r.condition.type !== 'absence' || r.forMs > 0, {
    message: 'an absence rule needs forMs > 0 (how long the silence must last)',
    path: ['forMs'],
  });
export type AlertRule = z.infer<typeof AlertRule>;
export type AlertRuleInput = z.input<typeof AlertRule>;

export const Silence = z.object({
  id: z.string().min(1),
  /** Label values (patterns) an alert must all match to be silenced; `alertname` matches the rule id. */
  matchers: z.record(z.string(), z.string()),
  startsAt: z.number().int(),
  endsAt: z.number().int(),
  comment: z.string().max(1000).default(''),
  createdBy: z.string().default(''),
});
export type Silence = z.infer<typeof Silence>;
