import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { factVersion } from '../domain/facts.js';
import { type IdleSeriesFreed, MAX_LISTED_FREED } from '../domain/metrics/eviction.js';
import { envelope } from '../runtime/envelope.js';
import type { EventStore } from '../stores/event-store/port.js';
import type { SeriesRegistry } from './series-registry.js';

export const INGEST_STREAM = 'ingest-main';

/**
 * Frees the series idle for `idleMs` at the ingest edge and records it (`idleSeriesFreed` in
 * `ingest-main`, the first `MAX_LISTED_FREED` ids listed, every one counted). A failure to record is
 * logged as an error: the series are freed either way (they only stop counting towards the limits).
 */
export async function sweepIdleSeries(
  registry: SeriesRegistry,
  events: EventStore,
  idleMs: number,
  logger: Logger,
): Promise<number> {
  const freed = registry.sweep();
  if (!freed.length) return 0;
  logger.info({ freed: freed.length, series: registry.size }, 'freed idle series');
  const fact: IdleSeriesFreed = {
    at: Date.now(),
    idleMs,
    count: freed.length,
    seriesIds: freed.slice(0, MAX_LISTED_FREED),
  };
  const id = randomUUID();
  try {
    await events.append(INGEST_STREAM, [
      {
        id,
        type: 'idleSeriesFreed',
        data: fact,
        metadata: envelope({ principal: 'system:ingest', schemaVersion: factVersion('idleSeriesFreed') }, id),
      },
    ]);
  } catch (error) {
    logger.error({ err: error, freed: freed.length }, 'could not record the idle series freed');
  }
  return freed.length;
}
