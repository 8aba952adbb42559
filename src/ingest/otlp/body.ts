import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate } from 'node:zlib';
import { HttpError, readBody } from '../../runtime/http-body.js';

/**
 * An OTLP request body, up to `maxBytes` as sent and `maxDecodedBytes` once decompressed. A gzip (or
 * deflate) body is decompressed as it arrives, through a stream: neither the compressed body nor more
 * than `maxDecodedBytes` of its decompressed form is ever held, and a body past either limit gets 413
 * as soon as it crosses it, without reading the rest. A body that is not valid gzip gets 400.
 */
export async function readOtlpBody(
  req: IncomingMessage,
  limits: { maxBytes: number; maxDecodedBytes: number },
): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'gzip' && encoding !== 'deflate') return readBody(req, limits);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBytes) {
    req.resume();
    throw new HttpError(413, `body of ${declared} bytes is over the limit of ${limits.maxBytes} bytes`);
  }
  const inflater = encoding === 'gzip' ? createGunzip() : createInflate();
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let sent = 0;
    let decoded = 0;
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      req.unpipe(inflater);
      // The rest of the body is read and dropped, so that the answer can be sent on this connection.
      req.resume();
      inflater.destroy();
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      if (sent > limits.maxBytes)
        fail(new HttpError(413, `body is over the limit of ${limits.maxBytes} bytes`));
    });
    req.once('close', () => {
      if (!req.complete) fail(new Error('the request was aborted before its body was read'));
    });
    req.once('error', fail);
    inflater.on('data', (chunk: Buffer) => {
      if (settled) return;
      decoded += chunk.length;
      if (decoded > limits.maxDecodedBytes)
        fail(new HttpError(413, `decompressed body is over the limit of ${limits.maxDecodedBytes} bytes`));
      else chunks.push(chunk);
    });
    inflater.once('error', (error) =>
      fail(new HttpError(400, `body is not valid ${encoding}: ${error.message}`)),
    );
    inflater.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks, decoded));
    });
    req.pipe(inflater);
  });
}
