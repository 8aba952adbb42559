import { z } from 'zod';
import { ChangeStamp, FieldChange } from '../configuration/entry.js';
import { LabelSet, TimeMs, UInt64Text } from '../primitives.js';
import { AlertRule, SEVERITIES, Silence } from './rules.js';

/**
 * The alert manager's facts, in `alertmanager-<id>`: every alert transition, silence, notification,
 * and every change to its rules.
 */
export const ALERT_EVENT_SCHEMA_VERSION = 1;

const AlertFact = z.object({
  key: z.string(),
  rule: z.string(),
  seriesId: UInt64Text,
  labels: LabelSet,
  severity: z.enum(SEVERITIES),
  value: z.number(),
  since: TimeMs,
  at: TimeMs,
  /** The log position of the sample or finding that caused it (null for clock ticks). */
  sourcePosition: UInt64Text.nullable(),
  /** What a clock decision was made on (an absence: the series' cadence and how long it was silent). */
  evidence: z.record(z.string(), z.number()).optional(),
});

/** What a grouped notification says, as it is raised and as it is delivered. */
const NotificationFact = z.object({
  rule: z.string(),
  reason: z.enum(['fired', 'escalated', 'resolved']),
  severity: z.enum(SEVERITIES),
  group: z.record(z.string(), z.string()),
  alerts: z.array(z.string()),
  rootCause: z.string().nullable(),
  at: z.number(),
});

/**
 * Who changed a rule, when, from where, and the log position evaluation had reached then: source
 * events up to it were judged under the rules before the change, later ones under the new rules.
 */
const RuleChange = z.object({ ...ChangeStamp.shape, sourcePosition: UInt64Text.nullable() });

export const AlertEvent = z.discriminatedUnion('type', [
  AlertFact.extend({ type: z.literal('alertPending') }),
  AlertFact.extend({ type: z.literal('alertFired') }),
  AlertFact.extend({ type: z.literal('alertEscalated'), from: z.enum(SEVERITIES) }),
  AlertFact.extend({ type: z.literal('alertResolved') }),
  AlertFact.extend({ type: z.literal('alertAcknowledged'), by: z.string() }),
  z.object({ type: z.literal('silenceCreated'), silence: Silence }),
  /** A rule defined (created, or created again after a deletion). */
  RuleChange.extend({ type: z.literal('alertRuleDefined'), rule: AlertRule }),
  /** A rule's definition changed: the fields that changed, and the whole new rule. */
  RuleChange.extend({ type: z.literal('alertRuleUpdated'), rule: AlertRule, changes: z.array(FieldChange) }),
  /** Paused rules are not evaluated (their open alerts resolve); resumed, they are again. */
  RuleChange.extend({ type: z.literal('alertRulePaused'), id: z.string() }),
  RuleChange.extend({ type: z.literal('alertRuleResumed'), id: z.string() }),
  /** Deleted: no longer evaluated (its open alerts resolve); its history stays. */
  RuleChange.extend({ type: z.literal('alertRuleDeleted'), id: z.string() }),
  z.object({ type: z.literal('silenceRemoved'), id: z.string(), at: z.number() }),
  /**
   * What one source event taught the manager beyond transitions: the last sample of each series a rate
   * or absence rule watches (absence counts silence from `at`), and the finding-rule alerts whose
   * condition held again (they resolve `resolveAfterMs` after the last time).
   */
  z.object({
    type: z.literal('inputsObserved'),
    sourcePosition: UInt64Text,
    at: TimeMs,
    series: z.array(
      z.object({ seriesId: UInt64Text, name: z.string(), labels: LabelSet, value: z.number(), ts: TimeMs }),
    ),
    renewed: z.array(z.object({ key: z.string(), value: z.number() })),
  }),
  /** Earlier versions: a series an absence rule watches, first seen. */
  z.object({
    type: z.literal('seriesWatched'),
    seriesId: UInt64Text,
    name: z.string(),
    labels: LabelSet,
    value: z.number(),
    at: TimeMs,
  }),
  /** A grouped notification decided (not silenced): what live subscribers receive, webhook or not. */
  NotificationFact.extend({
    type: z.literal('notificationRaised'),
    /** Stable across re-evaluation: what a receiver deduplicates on. */
    id: z.string(),
    /** Will a webhook delivery follow (recorded as notificationSent or notificationFailed with this id)? */
    delivery: z.boolean(),
  }),
  NotificationFact.extend({
    type: z.literal('notificationSent'),
    id: z.string().optional(),
    receiver: z.string(),
    attempts: z.number().int().positive(),
    at: z.number(),
  }),
  z.object({
    type: z.literal('notificationFailed'),
    id: z.string().optional(),
    rule: z.string(),
    reason: z.enum(['fired', 'escalated', 'resolved']),
    receiver: z.string(),
    error: z.string().max(2000),
    attempts: z.number().int().positive(),
    at: z.number(),
  }),
]);
export type AlertEvent = z.infer<typeof AlertEvent>;
