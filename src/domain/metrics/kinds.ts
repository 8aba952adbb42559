/** The four metric kinds. Histograms and summaries travel as Prometheus-style component series. */
export const METRIC_KINDS = ['counter', 'gauge', 'histogram', 'summary'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];

/** Labels of one series: name → value. */
export type Labels = Readonly<Record<string, string>>;

/**
 * Role of a component series of a histogram or summary: the series stored for a histogram `h` are
 * `h_bucket{le=…}` (cumulative counts), `h_sum` and `h_count`; for a summary `s`, `s{quantile=…}`,
 * `s_sum` and `s_count`.
 */
export type SeriesRole = 'value' | 'bucket' | 'sum' | 'count' | 'quantile';

export interface SeriesDef {
  /** Stable 64-bit id (decimal string) from the name and the sorted labels. */
  readonly id: string;
  readonly name: string;
  readonly labels: Labels;
  readonly kind: MetricKind;
  readonly role: SeriesRole;
  /** The metric this series belongs to: `h` for `h_bucket`. */
  readonly family: string;
  readonly unit: string;
}
