/**
 * Tracks distinct series per metric name and refuses new ones past a limit, so one misbehaving
 * client (a user id in a label) cannot flood the store. Series already admitted stay admitted.
 */
export class CardinalityGuard {
  private readonly byMetric = new Map<string, Set<string>>();
  constructor(private readonly maxSeriesPerMetric: number) {}

  /** True when the series may be stored (known, or new and under the limit). */
  admit(metric: string, seriesId: string): boolean {
    let series = this.byMetric.get(metric);
    if (!series) {
      series = new Set();
      this.byMetric.set(metric, series);
    }
    if (series.has(seriesId)) return true;
    if (series.size >= this.maxSeriesPerMetric) return false;
    series.add(seriesId);
    return true;
  }

  seriesOf(metric: string): number {
    return this.byMetric.get(metric)?.size ?? 0;
  }
}
