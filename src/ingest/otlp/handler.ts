import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Type } from 'protobufjs';
import type { CollectionAgent, RecordResult } from '../../collection/agent.js';
import { IDEMPOTENCY_KEY } from '../../collection/idempotency.js';
import type { Principal } from '../../domain/auth/roles.js';
import { BackpressureError, NotDurableError } from '../../domain/errors.js';
import { HttpError } from '../../runtime/http-body.js';
import type { JsonValue } from '../../stores/event-store/port.js';
import { readOtlpBody } from './body.js';
import { type ConvertedRequest, createOtlpConverter } from './convert.js';
import { ExportMetricsServiceResponse, Status } from './schema.js';
import { WireError } from './wire.js';

export interface OtlpHandlerOptions {
  readonly agent: CollectionAgent;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  readonly maxDecodedBytes: number;
  /** Requests read and converted at once at most; past it, 503 at once without reading the body. */
  readonly maxConcurrentRequests?: number;
  /** While the event loop runs later than `maxLagMs`, new requests get 503 at once (load shedding). */
  readonly lag?: { readonly ms: number };
  readonly maxLagMs?: number;
}

type Format = 'protobuf' | 'json';

/** Makes a retried request a no-op answered the same (see the agent's `push`). */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** The answer to a request, as stored with its event so that a retry gets it again. */
interface Answer {
  readonly status: 200 | 400;
  readonly body: { partialSuccess?: { rejectedDataPoints: string; errorMessage: string }; message?: string };
}

/** A JSON body parsed: an ExportMetricsServiceRequest's shape, or a 400 naming what is wrong. */
function parseJson(body: Buffer): unknown {
  let request: unknown;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new HttpError(400, `body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request))
    throw new HttpError(400, 'body must be a JSON object (an ExportMetricsServiceRequest)');
  const rm = (request as { resourceMetrics?: unknown }).resourceMetrics;
  if (rm !== undefined && !Array.isArray(rm)) throw new HttpError(400, 'resourceMetrics must be an array');
  return request;
}

/**
 * OTLP's answer from what the conversion refused and what the agent took: 400 when no data point was
 * accepted, else 200, with `partialSuccess` naming up to five refused points and the reasons.
 */
function answer(converted: ConvertedRequest, result: RecordResult): Answer {
  const reasons = new Map(converted.rejected);
  for (const issue of result.rejected) {
    const point = converted.pointOfSample[issue.index]!;
    if (!reasons.has(point)) reasons.set(point, { path: issue.path, message: issue.message });
  }
  const total = converted.pointCount;
  const describe = [...reasons.entries()]
    .slice(0, 5)
    .map(([point, issue]) => `${converted.pointPath(point)} (${issue.path}): ${issue.message}`)
    .join('; ');
  const more = reasons.size > 5 ? `; and ${reasons.size - 5} more` : '';
  if (total > 0 && reasons.size === total)
    return { status: 400, body: { message: `no data point was accepted: ${describe}${more}` } };
  if (reasons.size > 0)
    return {
      status: 200,
      body: { partialSuccess: { rejectedDataPoints: String(reasons.size), errorMessage: describe + more } },
    };
  return { status: 200, body: {} };
}

function send(
  res: ServerResponse,
  status: number,
  format: Format,
  body: Record<string, unknown>,
  type: Type,
  headers: Record<string, string> = {},
): void {
  if (format === 'json') {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  } else {
    res.writeHead(status, { 'content-type': 'application/x-protobuf', ...headers });
    res.end(type.encode(type.fromObject(body)).finish());
  }
}

/** An OTLP error: google.rpc.Status with code INVALID_ARGUMENT (3) or UNAVAILABLE (14). */
function fail(
  res: ServerResponse,
  status: number,
  format: Format,
  message: string,
  headers: Record<string, string> = {},
): void {
  send(res, status, format, { code: status === 503 ? 14 : 3, message }, Status, headers);
}

/**
 * POST /v1/metrics, as the OTLP/HTTP specification describes: protobuf or JSON bodies, gzip, and
 * partial success. Points that fail validation are reported in `partialSuccess` (rejectedDataPoints
 * and the reasons) while the rest are kept; a request none of whose points can be accepted gets 400
 * with the reasons. A body that cannot be decoded gets 400, one over the size limit 413, an unknown
 * content type 415. A gzip body is decompressed as it arrives (body.ts); protobuf is walked once
 * straight into the agent's columns (wire.ts), JSON parsed and then converted into them (convert.ts):
 * no object is made per data point.
 *
 * A 200 is sent only once the accepted samples are durable (in the log, or fsynced to the spool while
 * the log is unreachable). With an `Idempotency-Key` header, a retry of a request already taken is
 * answered as the first one was (with `idempotency-replayed: true`) and records nothing. When the
 * agent holds too much, or durability does not come in time, 503 with Retry-After.
 */
export function createOtlpHandler(options: OtlpHandlerOptions) {
  const convert = createOtlpConverter();
  const maxConcurrent = options.maxConcurrentRequests ?? 16;
  const maxLag = options.maxLagMs ?? 50;
  let inFlight = 0;
  return async function admit(req: IncomingMessage, res: ServerResponse, caller: Principal): Promise<void> {
    const lag = options.lag?.ms ?? 0;
    if (inFlight > 0 && lag > maxLag) {
      // The service is behind on the work it took: new work waits for the client's retry, not here.
      res.setHeader('connection', 'close');
      options.logger.debug({ lag }, 'OTLP request refused: the event loop runs late');
      return fail(
        res,
        503,
        'json',
        `the service is busy (its event loop runs ${Math.round(lag)} ms late): retry later`,
        {
          'retry-after': '1',
        },
      );
    }
    if (inFlight >= maxConcurrent) {
      // Refused before a byte of the body is read: memory stays bounded however hard clients push.
      res.setHeader('connection', 'close');
      options.logger.debug({ inFlight }, 'OTLP request refused: too many at once');
      return fail(res, 503, 'json', `${inFlight} requests are being taken at once (the limit): retry later`, {
        'retry-after': '1',
      });
    }
    inFlight++;
    try {
      await handle(req, res, caller);
    } finally {
      inFlight--;
    }
  };

  async function handle(req: IncomingMessage, res: ServerResponse, caller: Principal): Promise<void> {
    const keyHeader = req.headers[IDEMPOTENCY_HEADER];
    const key = typeof keyHeader === 'string' ? keyHeader : undefined;
    const contentType = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    const format: Format | null =
      contentType === 'application/x-protobuf'
        ? 'protobuf'
        : contentType === 'application/json'
          ? 'json'
          : null;
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      req.resume();
      return fail(
        res,
        400,
        format ?? 'json',
        `${IDEMPOTENCY_HEADER}: must be 1-200 printable ASCII characters`,
      );
    }
    if (!format) {
      req.resume();
      return fail(
        res,
        415,
        'json',
        `content-type '${contentType}' is not supported: use application/x-protobuf or application/json`,
      );
    }
    let body: Buffer;
    try {
      body = await readOtlpBody(req, {
        maxBytes: options.maxBodyBytes,
        maxDecodedBytes: options.maxDecodedBytes,
      });
    } catch (error) {
      if (error instanceof HttpError) {
        res.setHeader('connection', 'close');
        return fail(res, error.status, format, error.message);
      }
      throw error;
    }

    let outcome: Awaited<ReturnType<CollectionAgent['push']>>;
    try {
      outcome = await options.agent.push({
        // OTLP's keys and GraphQL's share the agent: each edge, and each caller, has its own space, so a
        // key used on both or by two callers never hands one the other's answer.
        ...(key === undefined ? {} : { key: `otlp:${caller.id}:${key}` }),
        principal: caller.id,
        // Decoded only when its turn comes (requests are taken one at a time): a queued request holds
        // its body as sent, never its far larger decoded form.
        prepare: async (slicer) => {
          let converted: ConvertedRequest;
          try {
            converted =
              format === 'protobuf'
                ? await convert.protobuf(body, slicer)
                : await convert(parseJson(body), slicer);
          } catch (error) {
            if (!(error instanceof WireError)) throw error;
            throw new HttpError(
              400,
              `body is not a valid OTLP ExportMetricsServiceRequest (protobuf): ${error.message}`,
            );
          }
          return {
            columns: converted,
            respond: (result) => answer(converted, result) as unknown as JsonValue,
            accepted: (indexes) => converted.commit(indexes),
          };
        },
      });
    } catch (error) {
      if (error instanceof HttpError) return fail(res, error.status, format, error.message);
      if (error instanceof BackpressureError || error instanceof NotDurableError) {
        options.logger.info({ reason: error.message }, 'OTLP request not taken: retry later');
        const retry = key === undefined ? '' : ' with the same Idempotency-Key';
        return fail(res, 503, format, `${error.message}; retry${retry} later`, { 'retry-after': '1' });
      }
      throw error;
    }
    const answered = outcome.response as unknown as Answer;
    const replayed = outcome.duplicate ? { 'idempotency-replayed': 'true' } : undefined;
    if (answered.status !== 200)
      return fail(res, answered.status, format, String(answered.body.message ?? ''), replayed);
    if (answered.body.partialSuccess)
      options.logger.debug({ partialSuccess: answered.body.partialSuccess }, 'OTLP partial success');
    send(res, 200, format, answered.body, ExportMetricsServiceResponse, replayed);
  }
}
