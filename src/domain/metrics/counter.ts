/**
 * Counter arithmetic over (timestamp ms, value) samples in time order. A counter only goes up; a drop
 * means the process restarted and the counter began again from zero, so the new value is all increase
 * since the reset (Prometheus semantics, without extrapolation to the window edges).
 */
export function counterIncrease(timestamps: ArrayLike<number>, values: ArrayLike<number>): number {
  let increase = 0;
  for (let i = 1; i < values.length; i++) {
    const delta = values[i]! - values[i - 1]!;
    increase += delta >= 0 ? delta : values[i]!;
  }
  void timestamps;
  return increase;
}

/** Per-second rate of increase between the first and last sample; 0 with fewer than two samples. */
export function counterRate(timestamps: ArrayLike<number>, values: ArrayLike<number>): number {
  if (values.length < 2) return 0;
  const seconds = (timestamps[timestamps.length - 1]! - timestamps[0]!) / 1000;
  return seconds > 0 ? counterIncrease(timestamps, values) / seconds : 0;
}

/** Number of resets (drops) in the samples. */
export function counterResets(values: ArrayLike<number>): number {
  let resets = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! < values[i - 1]!) resets++;
  return resets;
}
