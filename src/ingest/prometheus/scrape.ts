import type { CollectionAgent, RecordResult, Sampler } from '../../collection/agent.js';
import { prometheusTextToSamples } from './convert.js';

export interface ScrapeTarget {
  readonly name: string;
  readonly url: string;
  readonly timeoutMs?: number;
}

/**
 * A sampler for the agent's periodic mode that scrapes a Prometheus text endpoint. Every scrape also
 * records `up` (1 or 0) and `scrape_duration_seconds` for the target, as Prometheus does; a failed
 * scrape records `up 0` and throws (the agent counts sampler errors).
 */
export function prometheusScraper(
  agent: CollectionAgent,
  target: ScrapeTarget,
  onScrape?: (result: RecordResult) => void,
): Sampler {
  const labels = { scrape_target: target.name };
  const up = agent.series({ name: 'up', labels, kind: 'gauge' });
  const duration = agent.series({ name: 'scrape_duration_seconds', labels, kind: 'gauge', unit: 's' });
  return async () => {
    const started = Date.now();
    try {
      const response = await fetch(target.url, {
        headers: { accept: 'text/plain;version=0.0.4' },
        signal: AbortSignal.timeout(target.timeoutMs ?? 10_000),
      });
      if (!response.ok) throw new Error(`scrape of ${target.url} answered ${response.status}`);
      const text = await response.text();
      const result = agent.recordSamples(prometheusTextToSamples(text, started, labels));
      agent.record(up, 1, started);
      agent.record(duration, (Date.now() - started) / 1000, started);
      onScrape?.(result);
    } catch (error) {
      agent.record(up, 0, started);
      throw error;
    }
  };
}
