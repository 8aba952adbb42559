import type { Labels } from '../../domain/metrics/kinds.js';

/** A half-open time range `[from, to)`. */
export interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

export interface SeriesInfo {
  readonly seriesId: string;
  readonly name: string;
  readonly family: string;
  readonly kind: string;
  readonly role: string;
  readonly unit: string;
  readonly labels: Labels;
}

export interface Point {
  readonly ts: number;
  readonly value: number;
}

/** What one bucket `[ts, ts + step)` of a series holds, within the range asked for. */
export interface Bucket {
  readonly ts: number;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly avg: number;
}

/** Everything a bucket can answer: the exact statistics, quantiles and rate when asked for. */
export interface SeriesBucket extends Bucket {
  readonly p50?: number;
  readonly p90?: number;
  readonly p99?: number;
  /** Per-second increase (see `rate.ts`). */
  readonly rate?: number;
  /**
   * True when rollups served part of the bucket: its quantiles come from merged digests. False: it was
   * computed from raw samples only, quantiles included.
   */
  readonly fromRollups: boolean;
}

export const SERIES_FUNCTIONS = ['avg', 'min', 'max', 'sum', 'count', 'p50', 'p90', 'p99', 'rate'] as const;
export type SeriesFunction = (typeof SERIES_FUNCTIONS)[number];
/** Kept for the callers that know it by this name. */
export type AggregateFunction = SeriesFunction;

export const QUANTILES = { p50: 0.5, p90: 0.9, p99: 0.99 } as const;
export type QuantileFunction = keyof typeof QUANTILES;
export const isQuantile = (fn: SeriesFunction): fn is QuantileFunction => fn in QUANTILES;
