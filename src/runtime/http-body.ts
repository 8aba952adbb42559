import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/**
 * Reads a request body up to `maxBytes` (as sent) and decompresses gzip/deflate up to `maxDecodedBytes`.
 * Past either limit: an HttpError 413, without buffering the rest.
 */
export async function readBody(
  req: IncomingMessage,
  limits: { maxBytes: number; maxDecodedBytes: number },
): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBytes) {
    req.resume();
    throw new HttpError(413, `body of ${declared} bytes is over the limit of ${limits.maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limits.maxBytes) {
      req.resume();
      throw new HttpError(413, `body is over the limit of ${limits.maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  try {
    if (encoding === 'gzip') return await gunzipAsync(body, { maxOutputLength: limits.maxDecodedBytes });
    if (encoding === 'deflate') return await inflateAsync(body, { maxOutputLength: limits.maxDecodedBytes });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HttpError(413, `decompressed body is over the limit of ${limits.maxDecodedBytes} bytes`);
    }
    throw new HttpError(400, `body is not valid ${encoding}: ${(error as Error).message}`);
  }
  if (encoding !== 'identity')
    throw new HttpError(415, `content-encoding '${encoding}' is not supported (use gzip)`);
  return body;
}
