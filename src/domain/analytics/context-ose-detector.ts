import { ContextOse, type ContextOseOptions, type ContextOseState } from './context-ose.js';
import type { Detection, Detector } from './detector.js';
import { RecentValues } from './recent-values.js';

export interface ContextOseDetectorOptions extends ContextOseOptions {
  /**
   * Samples kept to re-learn from when the range grows. CAD OSE bins values over a fixed range; on a
   * stream the range is the running minimum and maximum, and when a value falls outside it the
   * detector starts over on the new range and re-learns the last `relearn` samples (scoring nothing
   * while it does), then scores the value. Only past samples are used.
   */
  readonly relearn: number;
  /** A known fixed range (e.g. 0–100 for a percentage): no re-learning, values outside are clamped. */
  readonly minValue?: number;
  readonly maxValue?: number;
}

export const DEFAULT_CONTEXT_OSE_DETECTOR: ContextOseDetectorOptions = {
  bits: 3,
  baseThreshold: 0.75,
  restPeriod: 30,
  maxLeftLength: 7,
  maxActiveNeurons: 15,
  maxContexts: 1 << 16,
  relearn: 2000,
};

export interface ContextOseDetectorState {
  min: number | null;
  max: number | null;
  count: number;
  /** The last `relearn` samples, oldest first (base64 Float64). */
  recent: string;
  core: ContextOseState | null;
}

/** CAD OSE on a stream (see `ContextOse`), with the running range and re-learning described above. */
export class ContextOseDetector implements Detector {
  readonly name = 'contextOSE';
  private readonly o: ContextOseDetectorOptions;
  private readonly fixed: boolean;
  private min: number | null = null;
  private max: number | null = null;
  private count = 0;
  private readonly recent: RecentValues;
  private core: ContextOse | null = null;

  constructor(options: Partial<ContextOseDetectorOptions> = {}) {
    this.o = { ...DEFAULT_CONTEXT_OSE_DETECTOR, ...options };
    this.recent = new RecentValues(this.o.relearn);
    this.fixed = this.o.minValue !== undefined && this.o.maxValue !== undefined;
    if (this.fixed) {
      this.min = this.o.minValue!;
      this.max = this.o.maxValue!;
      this.core = new ContextOse(this.min, this.max, this.o);
    }
  }

  /** Learned contexts (bounded by `maxContexts`). */
  get contexts(): number {
    return this.core?.contexts ?? 0;
  }

  update(value: number): Detection | null {
    if (!this.fixed && (this.core === null || value < this.min! || value > this.max!)) {
      this.min = this.min === null ? value : Math.min(this.min, value);
      this.max = this.max === null ? value : Math.max(this.max, value);
      this.core = new ContextOse(this.min, this.max, this.o);
      const core = this.core;
      this.recent.forEach(this.count, (v) => core.update(v));
    }
    const core = this.core!;
    const score = core.update(value);
    this.recent.push(this.count, value);
    this.count++;
    if (this.count <= this.o.restPeriod) return null; // the original's initial rest: no output yet
    const [expectedLow, expectedHigh] = core.expected();
    return { score, detector: this.name, expectedLow, expectedHigh };
  }

  snapshot(): ContextOseDetectorState {
    return {
      min: this.min,
      max: this.max,
      count: this.count,
      recent: this.recent.snapshot(this.count),
      core: this.core?.snapshot() ?? null,
    };
  }

  restore(raw: unknown): void {
    const state = raw as ContextOseDetectorState;
    this.min = state.min;
    this.max = state.max;
    this.count = state.count;
    this.recent.restore(this.count, state.recent);
    this.core = null;
    if (state.core && this.min !== null && this.max !== null) {
      this.core = new ContextOse(this.min, this.max, this.o);
      this.core.restore(state.core);
    }
  }
}

export const contextOseDetector = (options: Partial<ContextOseDetectorOptions> = {}): Detector =>
  new ContextOseDetector(options);
