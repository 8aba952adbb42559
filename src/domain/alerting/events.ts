import { z } from 'zod';
import { SEVERITIES, Silence } from './rules.js';

/** The alert manager's facts, in `alertmanager-<id>`: every alert transition, silence and notification. */
export const ALERT_EVENT_SCHEMA_VERSION = 1;

const AlertFact = z.object({
  key: z.string(),
  rule: z.string(),
  seriesId: z.string(),
  labels: z.record(z.string(), z.string()),
  severity: z.enum(SEVERITIES),
  value: z.number(),
  since: z.number(),
  at: z.number(),
  /** The log position of the sample or finding that caused it (null for clock ticks). */
  sourcePosition: z.string().nullable(),
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

export const AlertEvent = z.discriminatedUnion('type', [
  AlertFact.extend({ type: z.literal('alertPending') }),
  AlertFact.extend({ type: z.literal('alertFired') }),
  AlertFact.extend({ type: z.literal('alertEscalated'), from: z.enum(SEVERITIES) }),
  AlertFact.extend({ type: z.literal('alertResolved') }),
  AlertFact.extend({ type: z.literal('alertAcknowledged'), by: z.string() }),
  z.object({ type: z.literal('silenceCreated'), silence: Silence }),
  z.object({ type: z.literal('silenceRemoved'), id: z.string(), at: z.number() }),
  /** A series an absence rule watches, first seen: its silence is noticed even across restarts. */
  z.object({
    type: z.literal('seriesWatched'),
    seriesId: z.string(),
    name: z.string(),
    labels: z.record(z.string(), z.string()),
    value: z.number(),
    at: z.number(),
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
