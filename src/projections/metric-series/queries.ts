/**
 * The metric series read model's questions, one small file each:
 * - `selector.ts`: which series (name, label matchers, text, ids), resolved through the catalogue;
 * - `catalogue.ts`: series search, label names and values;
 * - `plan.ts`: which store (raw samples, 1-minute or 1-hour rollups) serves which part of a range;
 * - `stats.ts` and `rate.ts`: per bucket statistics, quantiles and rates;
 * - `range.ts`: raw samples or buckets of one or many series;
 * - `aggregate.ts`: one value per group of series, with top-k / bottom-k;
 * - `correlation.ts`: correlation between series, with lags;
 * - `scan.ts`: every sample of a range, page by page (for exports);
 * - `recent-times.ts`: the times of each series' last samples (cadences).
 */
export { type AggregateGroup, type AggregateQuery, aggregate } from './aggregate.js';
export { findSeries, labelNames, labelValues, type SeriesPage, searchSeries } from './catalogue.js';
export {
  type CorrelationQuery,
  correlate,
  correlation,
  type LagCorrelation,
  type SeriesCorrelation,
} from './correlation.js';
export { planSegments, type Segment, type Source } from './plan.js';
export {
  DEFAULT_POINT_LIMIT,
  downsample,
  MAX_POINT_LIMIT,
  type RangeQuery,
  rawRange,
  type SeriesRange,
  seriesRange,
} from './range.js';
export { recentTimes } from './recent-times.js';
export { type ScannedSample, scanSamples } from './scan.js';
export {
  type LabelMatcher,
  MATCH_OPS,
  MAX_SERIES,
  type MatchOp,
  resolveSeries,
  type SeriesSelector,
} from './selector.js';
export {
  type AggregateFunction,
  type Bucket,
  type Point,
  SERIES_FUNCTIONS,
  type SeriesBucket,
  type SeriesFunction,
  type SeriesInfo,
  type TimeRange,
} from './types.js';
