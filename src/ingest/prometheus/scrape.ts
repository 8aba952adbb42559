import type { CollectionAgent, RecordResult, Sampler } from '../../collection/agent.js';
import { prometheusTextToSamples } from './convert.js';

/** Default largest scrape body (`SCRAPE_MAX_BODY_BYTES`): 10 MiB. */
export const DEFAULT_SCRAPE_MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface ScrapeTarget {
  readonly name: string;
  readonly url: string;
  readonly timeoutMs?: number;
  /** Largest body read from the target (as decoded); a larger one fails the scrape. Default 10 MiB. */
  readonly maxBodyBytes?: number;
}

/**
 * A sampler for the agent's periodic mode that scrapes a Prometheus text endpoint. Every scrape also
 * records `up` (1 or 0) and `scrape_duration_seconds` for the target, as Prometheus does; a failed
 * scrape records `up 0` and throws (the agent counts sampler errors).
 *
 * The body is read as a stream and given up (the connection closed) as soon as it passes
 * `maxBodyBytes`, or at once when its `content-length` says so: the scrape fails and none of its
 * samples are stored. Scrapes of one target never overlap: a call while the previous scrape is still
 * running is skipped (not queued) and counted in the counter `scrape_skipped_total`.
 */
export function prometheusScraper(
  agent: CollectionAgent,
  target: ScrapeTarget,
  onScrape?: (result: RecordResult) => void,
): Sampler {
  const labels = { scrape_target: target.name };
  const up = agent.series({ name: 'up', labels, kind: 'gauge' });
  const duration = agent.series({ name: 'scrape_duration_seconds', labels, kind: 'gauge', unit: 's' });
  const skippedSeries = agent.series({ name: 'scrape_skipped_total', labels, kind: 'counter' });
  const maxBodyBytes = target.maxBodyBytes ?? DEFAULT_SCRAPE_MAX_BODY_BYTES;
  let running = false;
  let skipped = 0;
  return async () => {
    if (running) {
      skipped++;
      agent.record(skippedSeries, skipped);
      return;
    }
    running = true;
    const started = Date.now();
    try {
      const text = await fetchBody(target, maxBodyBytes);
      const result = agent.recordSamples(prometheusTextToSamples(text, started, labels));
      agent.record(up, 1, started);
      agent.record(duration, (Date.now() - started) / 1000, started);
      onScrape?.(result);
    } catch (error) {
      agent.record(up, 0, started);
      throw error;
    } finally {
      running = false;
    }
  };
}

/** The target's body as text, read as a stream and never more than `maxBodyBytes` of it. */
async function fetchBody(target: ScrapeTarget, maxBodyBytes: number): Promise<string> {
  const tooLarge = (what: string) =>
    new Error(
      `scrape of ${target.url} refused: body ${what} the limit of ${maxBodyBytes} bytes (SCRAPE_MAX_BODY_BYTES)`,
    );
  const abort = new AbortController();
  const response = await fetch(target.url, {
    headers: { accept: 'text/plain;version=0.0.4' },
    signal: AbortSignal.any([abort.signal, AbortSignal.timeout(target.timeoutMs ?? 10_000)]),
  });
  const giveUp = async (error: Error): Promise<never> => {
    // Cancelling the body closes the connection; the abort makes sure of it.
    await response.body?.cancel(error).catch(() => undefined);
    abort.abort(error);
    throw error;
  };
  if (!response.ok) return giveUp(new Error(`scrape of ${target.url} answered ${response.status}`));
  // content-length counts the bytes as sent: compare only when they are the body as read.
  const encoding = response.headers.get('content-encoding');
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if ((!encoding || encoding === 'identity') && declared > maxBodyBytes)
    return giveUp(tooLarge(`of ${declared} bytes (content-length) exceeds`));
  if (!response.body) return '';

  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBodyBytes) {
      const error = tooLarge('exceeds');
      await reader.cancel(error).catch(() => undefined);
      abort.abort(error);
      throw error;
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks, size));
}
