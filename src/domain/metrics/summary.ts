import { DDSketch } from '@datadog/sketches-js';

/**
 * Streaming quantiles for summaries with DDSketch (relative-error guarantee, mergeable): each
 * quantile estimate is within `relativeAccuracy` of the true value.
 */
export class StreamingSummary {
  private sketch: DDSketch;
  constructor(private readonly relativeAccuracy = 0.01) {
    this.sketch = new DDSketch({ relativeAccuracy });
  }

  observe(value: number): void {
    this.sketch.accept(value);
  }

  get count(): number {
    return this.sketch.count;
  }

  get sum(): number {
    return this.sketch.sum;
  }

  quantile(q: number): number {
    return this.sketch.count === 0 ? Number.NaN : this.sketch.getValueAtQuantile(q);
  }

  merge(other: StreamingSummary): void {
    this.sketch.merge(other.sketch);
  }

  reset(): void {
    this.sketch = new DDSketch({ relativeAccuracy: this.relativeAccuracy });
  }
}
