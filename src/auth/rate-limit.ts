/**
 * Token buckets per caller: `perSecond` sustained, `burst` at once. Buckets of callers idle long enough
 * to be full again are forgotten, so a flood of distinct sources cannot grow memory without bound
 * beyond the ones active within that time. (A few lines: a library would add a dependency for this.)
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private checks = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes one token for `who`: 0 when allowed, else the seconds until one is free. */
  take(who: string, now = Date.now()): number {
    if (++this.checks % 10_000 === 0) this.forget(now);
    const bucket = this.buckets.get(who) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.buckets.set(who, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.perSecond);
  }

  private forget(now: number): void {
    const fullAfterMs = (this.burst / this.perSecond) * 1000;
    for (const [who, bucket] of this.buckets) if (now - bucket.at > fullAfterMs) this.buckets.delete(who);
  }
}
