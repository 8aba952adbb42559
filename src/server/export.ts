import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Field,
  Float64,
  makeData,
  makeVector,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  TimestampMillisecond,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ValidationError } from '../domain/errors.js';
import {
  type LabelMatcher,
  resolveSeries,
  type ScannedSample,
  type SeriesInfo,
  type SeriesSelector,
  scanSamples,
} from '../projections/metric-series/queries.js';
import type { AnalyticsStore } from '../stores/clickhouse/client.js';
import type { Route } from './app.js';

export const EXPORT_PATH = '/v1/series/export';
/** Rows per query to the store, and per Arrow record batch. */
const PAGE_ROWS = 10_000;

/** `label=value`, `label!=value`, `label=~regex`, `label!~regex` (label names hold none of `=!~`). */
const MATCHER = /^([A-Za-z_][A-Za-z0-9_.]*)(=~|!~|!=|=)(.*)$/s;
const OPS = { '=': 'eq', '!=': 'neq', '=~': 'regex', '!~': 'notRegex' } as const;

/** An instant: ISO-8601 with a zone (or a date, UTC), or epoch milliseconds. */
const instant = z.string().transform((value, ctx) => {
  const ms = /^\d{1,15}$/.test(value)
    ? Number(value)
    : /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/.test(value)
      ? Date.parse(value)
      : Number.NaN;
  if (!Number.isFinite(ms)) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be an ISO-8601 instant with a zone, or epoch milliseconds',
    });
    return z.NEVER;
  }
  return ms;
});

const Query = z
  .object({
    format: z.enum(['csv', 'arrow']),
    name: z.string().min(1).optional(),
    'match[]': z.array(
      z.string().transform((value, ctx): LabelMatcher => {
        const m = MATCHER.exec(value);
        if (!m) {
          ctx.addIssue({
            code: 'custom',
            message: `'${value}' is not label=value, label!=value, label=~regex or label!~regex`,
          });
          return z.NEVER;
        }
        return { label: m[1]!, op: OPS[m[2] as keyof typeof OPS], value: m[3]! };
      }),
    ),
    id: z.array(z.string().regex(/^\d{1,20}$/, 'must be a decimal series id')),
    text: z.string().min(1).optional(),
    from: instant,
    to: instant,
  })
  .refine((q) => q.from < q.to, { path: ['to'], message: 'must be after from' })
  .refine((q) => q.name !== undefined || q['match[]'].length > 0 || q.id.length > 0, {
    path: ['name'],
    message: 'give name, match[] or id: an export names its series',
  });

class BadRequest extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function parseQuery(url: URL) {
  const single = (key: string) => url.searchParams.get(key) ?? undefined;
  const parsed = Query.safeParse({
    format: single('format'),
    name: single('name'),
    'match[]': url.searchParams.getAll('match[]'),
    id: url.searchParams.getAll('id'),
    text: single('text'),
    from: single('from'),
    to: single('to'),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const [key, index] = issue.path;
    throw new BadRequest(
      index === undefined ? String(key) : `${String(key).replace('[]', '')}[${String(index)}]`,
      issue.message,
    );
  }
  return parsed.data;
}

/** The query layer's field names as this endpoint's parameters. */
function fieldOf(path: string): string {
  const matcher = /^selector\.matchers\[(\d+)\]/.exec(path);
  if (matcher) return `match[${matcher[1]}]`;
  if (path.startsWith('selector.seriesIds')) return 'id';
  return 'match[]';
}

/** RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled. */
const csvField = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

const ARROW_SCHEMA = new Schema([
  new Field('series_id', new Utf8(), false),
  new Field('name', new Utf8(), false),
  new Field('labels', new Utf8(), false),
  new Field('timestamp', new TimestampMillisecond('UTC'), false),
  new Field('value', new Float64(), false),
]);

function arrowBatch(
  page: readonly ScannedSample[],
  series: ReadonlyMap<string, SeriesInfo>,
  labels: ReadonlyMap<string, string>,
) {
  const children = [
    vectorFromArray(
      page.map((s) => s.seriesId),
      new Utf8(),
    ),
    vectorFromArray(
      page.map((s) => series.get(s.seriesId)!.name),
      new Utf8(),
    ),
    vectorFromArray(
      page.map((s) => labels.get(s.seriesId)!),
      new Utf8(),
    ),
    vectorFromArray(
      page.map((s) => s.ts),
      new TimestampMillisecond('UTC'),
    ),
    makeVector(Float64Array.from(page, (s) => s.value)),
  ];
  const data = makeData({
    type: new Struct(ARROW_SCHEMA.fields),
    length: page.length,
    nullCount: 0,
    children: children.map((c) => c.data[0]!),
  });
  return new RecordBatch(ARROW_SCHEMA, data);
}

/** Writes to the response, waiting while it holds more than it should (a slow client sets the pace). */
async function send(res: ServerResponse, chunk: string | Uint8Array): Promise<void> {
  if (res.destroyed) return;
  if (!res.write(chunk)) await drained(res);
}

/** Resolves once the response has room again, or is gone. */
async function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed || !res.writableNeedDrain) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * `GET /v1/series/export`: the raw samples of the selected series in `[from, to)` as CSV
 * (`series_id,name,labels,timestamp,value`; labels as a JSON object, timestamps ISO-8601 UTC) or as an
 * Arrow IPC stream (series_id, name, labels: Utf8; timestamp: Timestamp(ms, UTC); value: Float64), by
 * series then time. Streamed page by page from the store; a failure midway aborts the response (it
 * never ends as if complete).
 */
export function seriesExportRoute(deps: {
  analytics: AnalyticsStore;
  logger: Logger;
  /** Rows per store query and per Arrow record batch (default 10,000). */
  pageRows?: number;
}): Route {
  return {
    method: 'GET',
    path: EXPORT_PATH,
    role: 'viewer',
    async handle(req: IncomingMessage, res: ServerResponse) {
      req.resume();
      let query: ReturnType<typeof parseQuery>;
      let series: SeriesInfo[];
      try {
        query = parseQuery(new URL(req.url ?? '/', 'http://localhost'));
        const selector: SeriesSelector = {
          ...(query.name !== undefined ? { name: query.name } : {}),
          ...(query['match[]'].length ? { matchers: query['match[]'] } : {}),
          ...(query.id.length ? { seriesIds: query.id } : {}),
          ...(query.text !== undefined ? { text: query.text } : {}),
        };
        series = await resolveSeries(deps.analytics, selector, 'selector');
      } catch (error) {
        const bad =
          error instanceof BadRequest
            ? error
            : error instanceof ValidationError && error.issues[0]
              ? new BadRequest(fieldOf(error.issues[0].path), error.issues[0].message)
              : null;
        if (!bad) throw error;
        res.writeHead(400, {
          'content-type': 'application/json; charset=utf-8',
          'cache-control': 'no-store',
        });
        res.end(JSON.stringify({ error: { code: 'BAD_REQUEST', field: bad.field, message: bad.message } }));
        return;
      }
      const byId = new Map(series.map((s) => [s.seriesId, s]));
      const labels = new Map(series.map((s) => [s.seriesId, JSON.stringify(s.labels)]));
      const pages = scanSamples(
        deps.analytics,
        series.map((s) => s.seriesId),
        query.from,
        query.to,
        deps.pageRows ?? PAGE_ROWS,
      );
      const csv = query.format === 'csv';
      res.writeHead(200, {
        'content-type': csv ? 'text/csv; charset=utf-8' : 'application/vnd.apache.arrow.stream',
        'content-disposition': `attachment; filename="series.${csv ? 'csv' : 'arrows'}"`,
        'cache-control': 'no-store',
      });
      try {
        if (csv) {
          const prefix = new Map(
            series.map((s) => [
              s.seriesId,
              `${s.seriesId},${csvField(s.name)},${csvField(labels.get(s.seriesId)!)},`,
            ]),
          );
          await send(res, 'series_id,name,labels,timestamp,value\n');
          for await (const page of pages) {
            if (res.destroyed) return;
            let text = '';
            for (const s of page)
              text += `${prefix.get(s.seriesId)}${new Date(s.ts).toISOString()},${String(s.value)}\n`;
            await send(res, text);
          }
        } else {
          const writer = new RecordBatchStreamWriter();
          const pump = (async () => {
            for await (const chunk of writer) await send(res, chunk);
          })();
          // The schema first: an export without samples is still a valid stream.
          writer.reset(undefined, ARROW_SCHEMA);
          try {
            for await (const page of pages) {
              if (res.destroyed) break;
              writer.write(arrowBatch(page, byId, labels));
              // The writer queues what the response has not taken yet: let it drain first.
              await drained(res);
            }
          } catch (error) {
            // Cut the response before the writer could end the stream as if it were complete.
            res.destroy();
            writer.abort(error);
            await pump.catch(() => {});
            throw error;
          }
          writer.close();
          await pump;
        }
        res.end();
      } catch (error) {
        deps.logger.error({ err: error, url: req.url }, 'series export failed midway');
        res.destroy();
      }
    },
  };
}
