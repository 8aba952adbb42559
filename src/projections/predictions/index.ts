import { readFactOf } from '../../domain/facts.js';
import { type AnalyticsStore, queryRows } from '../../stores/clickhouse/client.js';
import { clickhouseTime } from '../audit-index/mapping.js';
import { type Row, rowsProjection } from '../projection.js';

export const PREDICTIONS_TABLE = 'predictions';

/** `predictionsMade` as one row per prediction. */
export const predictionsProjection = rowsProjection({
  name: 'predictions',
  filter: { categories: ['predictions'], eventTypes: ['predictionsMade'] },
  tables: [PREDICTIONS_TABLE],
  map: (events) => {
    const rows: Row[] = [];
    for (const event of events) {
      const { data } = readFactOf(event, 'predictionsMade');
      const position = event.position.toString();
      for (const p of data.predictions)
        rows.push({
          attachment_id: data.attachmentId,
          model_id: data.modelId,
          version: data.version,
          series_id: p.seriesId,
          ts: clickhouseTime(new Date(p.ts)),
          value: p.value,
          position,
        });
    }
    return { [PREDICTIONS_TABLE]: rows };
  },
});

export interface PredictionRow {
  readonly attachmentId: string;
  readonly modelId: string;
  readonly version: number;
  readonly seriesId: string;
  readonly ts: number;
  readonly value: number;
  readonly position: string;
}

/** Predictions for times in `[from, to)` of an attachment and/or a model, by attachment then time. */
export async function findPredictions(
  store: AnalyticsStore,
  q: {
    readonly from: Date;
    readonly to: Date;
    readonly attachmentId?: string;
    readonly modelId?: string;
    readonly limit?: number;
    readonly offset?: number;
  },
): Promise<PredictionRow[]> {
  const rows = await queryRows<Record<string, string | number>>(
    store,
    `SELECT attachment_id AS attachmentId, model_id AS modelId, version, toString(series_id) AS seriesId,
            toUnixTimestamp64Milli(ts) AS tsMs, value, toString(position) AS pos
       FROM ${store.table(PREDICTIONS_TABLE)} FINAL
      WHERE ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
        ${q.attachmentId ? 'AND attachment_id = {attachment:String}' : ''}
        ${q.modelId ? 'AND model_id = {model:String}' : ''}
      ORDER BY attachment_id, ts, series_id LIMIT {limit:UInt32} OFFSET {offset:UInt64}`,
    {
      from: q.from.getTime(),
      to: q.to.getTime(),
      attachment: q.attachmentId,
      model: q.modelId,
      limit: q.limit ?? 10_000,
      offset: q.offset ?? 0,
    },
  );
  return rows.map((r) => ({
    attachmentId: String(r.attachmentId),
    modelId: String(r.modelId),
    version: Number(r.version),
    seriesId: String(r.seriesId),
    ts: Number(r.tsMs),
    value: Number(r.value),
    position: String(r.pos),
  }));
}
