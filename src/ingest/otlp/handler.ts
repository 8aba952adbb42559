import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Type } from 'protobufjs';
import type { CollectionAgent } from '../../collection/agent.js';
import { HttpError, readBody } from '../../server/body.js';
import { createOtlpConverter } from './convert.js';
import { ExportMetricsServiceRequest, ExportMetricsServiceResponse, Status } from './schema.js';

export interface OtlpHandlerOptions {
  readonly agent: CollectionAgent;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  readonly maxDecodedBytes: number;
}

type Format = 'protobuf' | 'json';

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
 * content type 415; when the agent's buffer is full, 503 with Retry-After (the client may retry).
 */
export function createOtlpHandler(options: OtlpHandlerOptions) {
  const convert = createOtlpConverter();
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
    if (!format) {
      req.resume();
      return fail(
        res,
        415,
        'json',
        `content-type '${contentType}' is not supported: use application/x-protobuf or application/json`,
      );
    }
    let request: unknown;
    try {
      const body = await readBody(req, {
        maxBytes: options.maxBodyBytes,
        maxDecodedBytes: options.maxDecodedBytes,
      });
      if (format === 'protobuf') {
        try {
          const message = ExportMetricsServiceRequest.decode(body);
          request = ExportMetricsServiceRequest.toObject(message, {
            longs: String,
            enums: Number,
            bytes: String,
          });
        } catch (error) {
          throw new HttpError(
            400,
            `body is not a valid OTLP ExportMetricsServiceRequest (protobuf): ${(error as Error).message}`,
          );
        }
      } else {
        try {
          request = JSON.parse(body.toString('utf8'));
        } catch (error) {
          throw new HttpError(400, `body is not valid JSON: ${(error as Error).message}`);
        }
        if (typeof request !== 'object' || request === null || Array.isArray(request)) {
          throw new HttpError(400, 'body must be a JSON object (an ExportMetricsServiceRequest)');
        }
        const rm = (request as { resourceMetrics?: unknown }).resourceMetrics;
        if (rm !== undefined && !Array.isArray(rm))
          throw new HttpError(400, 'resourceMetrics must be an array');
      }
    } catch (error) {
      if (error instanceof HttpError) {
        res.setHeader('connection', 'close');
        return fail(res, error.status, format, error.message);
      }
      throw error;
    }

    const converted = convert(request);
    const result = options.agent.recordSamples(converted.samples, { atomic: true });
    const refusedSamples = new Set(result.rejected.map((r) => r.index));
    if (result.accepted > 0) {
      converted.commit(converted.samples.map((_, i) => i).filter((i) => !refusedSamples.has(i)));
    }
    const reasons = new Map(converted.rejected);
    for (const issue of result.rejected) {
      const point = converted.pointOfSample[issue.index]!;
      if (!reasons.has(point)) reasons.set(point, { path: issue.path, message: issue.message });
    }
    const total = converted.points.length;
    const describe = [...reasons.entries()]
      .slice(0, 5)
      .map(([point, issue]) => `${converted.points[point]} (${issue.path}): ${issue.message}`)
      .join('; ');
    const more = reasons.size > 5 ? `; and ${reasons.size - 5} more` : '';
    if (result.dropped > 0 && result.accepted === 0) {
      return fail(res, 503, format, 'the collection agent buffer is full; retry later', {
        'retry-after': '1',
      });
    }
    if (total > 0 && reasons.size === total) {
      return fail(res, 400, format, `no data point was accepted: ${describe}${more}`);
    }
    const rejectedPoints = reasons.size + (result.dropped > 0 ? 1 : 0);
    if (reasons.size > 0 || result.dropped > 0) {
      options.logger.debug({ rejected: reasons.size, dropped: result.dropped }, 'OTLP partial success');
      const message = [
        describe + more,
        result.dropped ? `${result.dropped} samples dropped: buffer full` : '',
      ]
        .filter(Boolean)
        .join('; ');
      return send(
        res,
        200,
        format,
        { partialSuccess: { rejectedDataPoints: String(rejectedPoints), errorMessage: message } },
        ExportMetricsServiceResponse,
      );
    }
    send(res, 200, format, {}, ExportMetricsServiceResponse);
  };
}
