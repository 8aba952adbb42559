import {
  BRIEF_OVER_BYTES,
  briefOf,
  FULL_MAX_BYTES,
  FULL_MAX_BYTES_PER_REQUEST,
  jsonBytes,
  visibleData,
} from '../audit/payload.js';
import { sourcePositionOf } from '../runtime/envelope.js';
import type { JsonValue, RecordedEvent } from '../stores/event-store/port.js';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { badInput } from './errors.js';
import { JSONScalar } from './json.js';

const briefs = new WeakMap<RecordedEvent, JsonValue | null>();
const brief = (event: RecordedEvent): JsonValue | null => {
  if (!briefs.has(event)) briefs.set(event, briefOf(event));
  return briefs.get(event)!;
};

/** Bytes of full payloads each request has been given so far. */
const spent = new WeakMap<GraphQLContext, number>();

const text = (event: RecordedEvent, key: string): string | null => {
  const value = event.metadata[key];
  return typeof value === 'string' ? value : null;
};
const small = (event: RecordedEvent, key: string): number | null => {
  const value = event.metadata[key];
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
};

/** An event of the log, with its full envelope. */
export const AuditEvent = builder.objectRef<RecordedEvent>('AuditEvent').implement({
  description: 'An event of the log, as it was recorded: where it is, what it says and its whole envelope.',
  fields: (t) => ({
    position: t.field({
      type: 'Position',
      description: 'Its place in the whole log.',
      resolve: (e) => e.position,
    }),
    streamId: t.exposeString('streamId'),
    category: t.exposeString('category', { description: 'The part of the stream id before the first `-`.' }),
    revision: t.string({
      description: 'Its place in its stream: 0 for the first event (a decimal string: it is 64-bit).',
      resolve: (e) => e.revision.toString(),
    }),
    id: t.exposeString('id', { description: 'The event id (a UUID).' }),
    type: t.exposeString('type'),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt.getTime() }),
    principal: t.string({
      nullable: true,
      description: 'Who caused it: `user:…`, `apikey:…`, `actor:<stream id>`, `system:…`.',
      resolve: (e) => text(e, 'principal'),
    }),
    onBehalfOf: t.string({
      nullable: true,
      description:
        'The caller a fact was decided for, when an actor or the service wrote it downstream of a request.',
      resolve: (e) => text(e, 'onBehalfOf'),
    }),
    correlationId: t.string({ nullable: true, resolve: (e) => text(e, 'correlationId') }),
    causationId: t.string({
      nullable: true,
      description: 'The id of the event (or command) it was decided from.',
      resolve: (e) => text(e, 'causationId'),
    }),
    sourcePosition: t.field({
      type: 'Position',
      nullable: true,
      description: 'The log position of the event it was decided from, when the writer recorded it.',
      resolve: (e) => sourcePositionOf(e.metadata),
    }),
    commandId: t.string({ nullable: true, resolve: (e) => text(e, 'commandId') }),
    schemaVersion: t.int({ nullable: true, resolve: (e) => small(e, 'schemaVersion') }),
    machineVersion: t.int({ nullable: true, resolve: (e) => small(e, 'machineVersion') }),
    metadata: t.field({
      type: JSONScalar,
      description: 'The whole envelope, as recorded (an actor event also has the state it led to).',
      resolve: (e) => e.metadata as JsonValue,
    }),
    summary: t.field({
      type: JSONScalar,
      nullable: true,
      description: `The payload in brief, when it is shown only in brief: a sample batch as its sample and series counts and metric names, a payload carrying a batch with the batch in brief, any other payload over ${BRIEF_OVER_BYTES / 1024} KiB as its size and keys. Null when \`data\` is the payload.`,
      resolve: (e) => brief(e),
    }),
    data: t.field({
      type: JSONScalar,
      nullable: true,
      description: `The payload (less what derives from a secret, such as an API key's hash). Null when it is shown only in brief (see \`summary\`), unless \`full\`: then whole, up to ${FULL_MAX_BYTES / 1024 / 1024} MiB an event and ${FULL_MAX_BYTES_PER_REQUEST / 1024 / 1024} MiB a request (past that, an error for this field).`,
      args: { full: t.arg.boolean({ defaultValue: false }) },
      resolve: (e, args, ctx) => {
        if (brief(e) === null) return visibleData(e);
        if (!args.full) return null;
        const bytes = jsonBytes(e.data);
        if (bytes > FULL_MAX_BYTES)
          throw badInput(
            'full',
            `the payload is ${bytes} bytes, over the ${FULL_MAX_BYTES} one field returns`,
          );
        const used = (spent.get(ctx) ?? 0) + bytes;
        if (used > FULL_MAX_BYTES_PER_REQUEST)
          throw badInput(
            'full',
            `full payloads over ${FULL_MAX_BYTES_PER_REQUEST} bytes in one request: ask for fewer events`,
          );
        spent.set(ctx, used);
        return visibleData(e);
      },
    }),
  }),
});
