import { resolveArrayConnection, resolveOffsetConnection } from '@pothos/plugin-relay';
import type { AlertRecord } from '../actors/alertmanager.machine.js';
import { AlertEvent } from '../domain/alerting/events.js';
import { SEVERITIES, Silence } from '../domain/alerting/rules.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { readFactOf } from '../domain/facts.js';
import { findAlertTransitions } from '../projections/alerts/index.js';
import type { Position, RecordedEvent } from '../stores/event-store/port.js';
import { rangeOf } from './arguments.js';
import { builder, Label, LabelInput, labelList } from './builder.js';
import { invalid, MUTATION_ERRORS } from './error-types.js';
import { badInput } from './errors.js';
import { tailLog } from './log-tail.js';

const Severity = builder.enumType('Severity', { values: SEVERITIES });
type SeverityName = (typeof SEVERITIES)[number];
const rank = (s: SeverityName) => SEVERITIES.indexOf(s);

type AlertFactEvent = Extract<AlertEvent, { key: string }>;
type NotificationEvent = Extract<AlertEvent, { type: 'notificationRaised' }>;

const TRANSITIONS: Record<AlertFactEvent['type'], string> = {
  alertPending: 'pending',
  alertFired: 'fired',
  alertEscalated: 'escalated',
  alertAcknowledged: 'acknowledged',
  alertResolved: 'resolved',
};

/** One alert transition: from the `alerts` table (queries) or the log (subscriptions). */
interface TransitionShape {
  readonly key: string;
  readonly rule: string;
  readonly seriesId: string;
  readonly labels: Record<string, string> | null;
  readonly transition: string;
  readonly severity: SeverityName;
  readonly value: number;
  readonly at: number;
  readonly by: string | null;
  readonly position: Position | null;
  /** What a clock decision was made on (absence: cadence and silence); from the log only. */
  readonly evidence?: Record<string, number> | null;
}

const AlertTransition = builder.objectRef<TransitionShape>('AlertTransition').implement({
  description: 'An alert changing state: pending, fired, escalated, acknowledged or resolved.',
  fields: (t) => ({
    key: t.exposeString('key', { description: '`<rule>|<series id>`: one alert per rule and series.' }),
    rule: t.exposeString('rule'),
    seriesId: t.exposeString('seriesId'),
    labels: t.field({
      type: [Label],
      nullable: true,
      resolve: (a) => (a.labels ? labelList(a.labels) : null),
    }),
    transition: t.exposeString('transition', {
      description: 'pending | fired | escalated | acknowledged | resolved',
    }),
    severity: t.field({ type: Severity, resolve: (a) => a.severity }),
    value: t.exposeFloat('value'),
    at: t.field({ type: 'DateTime', resolve: (a) => a.at }),
    by: t.exposeString('by', { nullable: true, description: 'Who acknowledged it.' }),
    position: t.field({ type: 'Position', nullable: true, resolve: (a) => a.position }),
    evidence: t.field({
      type: 'JSON',
      nullable: true,
      description:
        'What a clock decision was made on — an absence after missed intervals: intervalMs, spread, intervals, missedIntervals, silentMs (live transitions; null from the table).',
      resolve: (a) => a.evidence ?? null,
    }),
  }),
});

const Alert = builder.objectRef<AlertRecord>('Alert').implement({
  description: "An alert's current state, from the alert manager's log.",
  fields: (t) => ({
    key: t.exposeString('key'),
    rule: t.exposeString('rule'),
    seriesId: t.exposeString('seriesId'),
    labels: t.field({ type: [Label], resolve: (a) => labelList(a.labels) }),
    status: t.exposeString('status', { description: 'pending | firing | resolved' }),
    severity: t.field({ type: Severity, resolve: (a) => a.severity }),
    since: t.field({ type: 'DateTime', resolve: (a) => a.since }),
    firedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.firedAt }),
    resolvedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.resolvedAt }),
    acknowledgedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.acknowledgedAt }),
    acknowledgedBy: t.exposeString('acknowledgedBy', { nullable: true }),
    escalated: t.exposeBoolean('escalated'),
    value: t.exposeFloat('value'),
  }),
});

const Notification = builder
  .objectRef<NotificationEvent & { position: Position }>('AlertNotification')
  .implement({
    description:
      'A grouped notification the alert manager decided (not silenced); it is also posted to the webhook, when one is set.',
    fields: (t) => ({
      rule: t.exposeString('rule'),
      reason: t.exposeString('reason', { description: 'fired | escalated | resolved' }),
      severity: t.field({ type: Severity, resolve: (n) => n.severity }),
      group: t.field({ type: [Label], resolve: (n) => labelList(n.group) }),
      alerts: t.exposeStringList('alerts', { description: 'The keys of the alerts in this notification.' }),
      rootCause: t.exposeString('rootCause', { nullable: true }),
      at: t.field({ type: 'DateTime', resolve: (n) => n.at }),
      position: t.field({ type: 'Position', resolve: (n) => n.position }),
    }),
  });

const SilenceRef = builder.objectRef<Silence>('Silence').implement({
  fields: (t) => ({
    id: t.exposeString('id'),
    matchers: t.field({ type: [Label], resolve: (s) => labelList(s.matchers) }),
    startsAt: t.field({ type: 'DateTime', resolve: (s) => s.startsAt }),
    endsAt: t.field({ type: 'DateTime', resolve: (s) => s.endsAt }),
    comment: t.exposeString('comment'),
    createdBy: t.exposeString('createdBy'),
  }),
});

const SilenceInput = builder.inputType('SilenceInput', {
  fields: (t) => ({
    id: t.string({ description: 'Default: a new id.' }),
    matchers: t.field({
      type: [LabelInput],
      required: true,
      description: 'Label patterns an alert must all match (`alertname` matches the rule id).',
    }),
    startsAt: t.field({ type: 'DateTime', description: 'Default: now.' }),
    endsAt: t.field({ type: 'DateTime', required: true }),
    comment: t.string(),
  }),
});

builder.queryFields((t) => ({
  alerts: t.connection({
    type: Alert,
    description: 'Alerts the alert manager knows, newest first; by status and at or above a severity.',
    args: {
      status: t.arg.string({ description: 'pending | firing | resolved' }),
      minSeverity: t.arg({ type: Severity }),
    },
    resolve: async (_root, args, ctx) => {
      if (args.status && !['pending', 'firing', 'resolved'].includes(args.status))
        throw badInput('status', 'must be pending, firing or resolved');
      const context = await ctx.alertManager.context();
      const alerts = Object.values(context?.alerts ?? {})
        .filter(
          (a) =>
            (!args.status || a.status === args.status) &&
            (!args.minSeverity || rank(a.severity) >= rank(args.minSeverity)),
        )
        .sort((a, b) => b.since - a.since || a.key.localeCompare(b.key));
      return resolveArrayConnection({ args, defaultSize: 100, maxSize: 10_000 }, alerts);
    },
  }),
  alertTransitions: t.connection({
    type: AlertTransition,
    description:
      'Alert transitions in [from, to) from the alerts table, oldest first, named as `alertChanged` names them.',
    args: {
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      rule: t.arg.string(),
      severity: t.arg({ type: Severity }),
    },
    resolve: (_root, args, ctx) => {
      const range = rangeOf(args.from, args.to);
      return resolveOffsetConnection({ args, defaultSize: 100, maxSize: 10_000 }, async ({ limit, offset }) =>
        (
          await findAlertTransitions(ctx.analytics, {
            ...range,
            rule: args.rule ?? undefined,
            severity: args.severity ?? undefined,
            limit,
            offset,
          })
        ).map((row) => ({
          key: row.alertKey,
          rule: row.rule,
          seriesId: row.seriesId,
          labels: null,
          transition: TRANSITIONS[row.transition as AlertFactEvent['type']] ?? row.transition,
          severity: row.severity as SeverityName,
          value: row.value,
          at: row.at,
          by: row.by,
          position: BigInt(row.position),
        })),
      );
    },
  }),
  silences: t.connection({
    type: SilenceRef,
    description: 'Silences in force or to come, by when they start.',
    resolve: async (_root, args, ctx) => {
      const silences = Object.values((await ctx.alertManager.context())?.silences ?? {}).sort(
        (a, b) => a.startsAt - b.startsAt || a.id.localeCompare(b.id),
      );
      return resolveArrayConnection({ args, defaultSize: 100, maxSize: 10_000 }, silences);
    },
  }),
}));

builder.mutationFields((t) => ({
  acknowledgeAlert: t.field({
    type: Alert,
    errors: { types: MUTATION_ERRORS },
    description:
      'Acknowledges a firing alert (stops its escalation), recorded with who asked; answers the alert. NotFoundError: no such alert; ConflictError: it is not firing, or is acknowledged already.',
    args: { key: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const before = (await ctx.alertManager.context())?.alerts[args.key];
      if (!before) throw new NotFoundError(`no alert ${args.key}`);
      if (!(await ctx.alertManager.acknowledge(args.key, ctx.caller.id)))
        throw new ConflictError(
          `alert ${args.key} is ${before.status}${before.acknowledgedBy ? `, acknowledged by ${before.acknowledgedBy}` : ''}: only a firing, unacknowledged alert can be acknowledged`,
        );
      return (await ctx.alertManager.context()).alerts[args.key]!;
    },
  }),
  createSilence: t.field({
    type: SilenceRef,
    errors: { types: MUTATION_ERRORS },
    description: 'Silences matching alerts from startsAt to endsAt: they change state but notify nobody.',
    args: { input: t.arg({ type: SilenceInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const parsed = Silence.safeParse({
        id: input.id ?? crypto.randomUUID(),
        matchers: Object.fromEntries(input.matchers.map((m) => [m.name, m.value])),
        startsAt: input.startsAt ?? Date.now(),
        endsAt: input.endsAt,
        comment: input.comment ?? '',
        createdBy: ctx.caller.id,
      });
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw invalid(`input.${issue.path.join('.')}`, issue.message);
      }
      if (parsed.data.endsAt <= parsed.data.startsAt) throw invalid('input.endsAt', 'must be after startsAt');
      if (Object.keys(parsed.data.matchers).length === 0)
        throw invalid('input.matchers', 'needs at least one matcher');
      await ctx.alertManager.silence(parsed.data, ctx.caller.id);
      return parsed.data;
    },
  }),
  removeSilence: t.field({
    type: SilenceRef,
    errors: { types: MUTATION_ERRORS },
    description:
      'Ends a silence at once, recorded with who asked; answers the silence removed. NotFoundError: no such silence.',
    args: { id: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const silence = (await ctx.alertManager.context())?.silences[args.id];
      if (!silence) throw new NotFoundError(`no silence ${args.id}`);
      await ctx.alertManager.unsilence(args.id, ctx.caller.id);
      return silence;
    },
  }),
}));

/** An alert manager's fact, read with its schema (one that does not match ends the feed with that error). */
function alertEventOf(event: RecordedEvent): AlertEvent {
  const fact = readFactOf(event, ...ALERT_FACT_TYPES);
  return { type: fact.type, ...fact.data } as AlertEvent;
}

const ALERT_FACT_TYPES = AlertEvent.options.map((o) => o.shape.type.value);

builder.subscriptionFields((t) => ({
  alertChanged: t.field({
    type: AlertTransition,
    description: 'Alert transitions as the alert manager records them; resume with `after`.',
    args: {
      rule: t.arg.string(),
      minSeverity: t.arg({ type: Severity }),
      after: t.arg({ type: 'Position' }),
    },
    subscribe: (_root, args, ctx) =>
      tailLog<TransitionShape>(ctx.logHub, {
        after: args.after,
        filter: { categories: ['alertmanager'], eventTypes: Object.keys(TRANSITIONS) },
        map: (event) => {
          const fact = alertEventOf(event);
          if (!('key' in fact)) return [];
          if (args.rule && fact.rule !== args.rule) return [];
          if (args.minSeverity && rank(fact.severity) < rank(args.minSeverity)) return [];
          return [
            {
              key: fact.key,
              rule: fact.rule,
              seriesId: fact.seriesId,
              labels: fact.labels,
              transition: TRANSITIONS[fact.type],
              severity: fact.severity,
              value: fact.value,
              at: fact.at,
              by: fact.type === 'alertAcknowledged' ? fact.by : null,
              evidence: fact.evidence ?? null,
              position: event.position,
            },
          ];
        },
      }),
    resolve: (transition) => transition,
  }),
  alertNotified: t.field({
    type: Notification,
    description: 'Grouped alert notifications (the live counterpart of the webhook); resume with `after`.',
    args: { minSeverity: t.arg({ type: Severity }), after: t.arg({ type: 'Position' }) },
    subscribe: (_root, args, ctx) =>
      tailLog<NotificationEvent & { position: Position }>(ctx.logHub, {
        after: args.after,
        filter: { categories: ['alertmanager'], eventTypes: ['notificationRaised'] },
        map: (event) => {
          const fact = alertEventOf(event);
          if (fact.type !== 'notificationRaised') return [];
          if (args.minSeverity && rank(fact.severity) < rank(args.minSeverity)) return [];
          return [{ ...fact, position: event.position }];
        },
      }),
    resolve: (notification) => notification,
  }),
}));
