/**
 * How late the event loop runs: a timer every `intervalMs` measures how much later than asked it
 * fired, smoothed over the last few (the newest weighing most). Load shedding reads it: while the loop
 * runs late, new work is refused, so health probes and the work already taken keep their turns.
 *
 * Hand-written rather than `monitorEventLoopDelay`: that gives a histogram since it was enabled, and
 * shedding needs the lag of the last few tens of milliseconds.
 */
export function eventLoopLag(intervalMs = 10) {
  let lag = 0;
  let expected = performance.now() + intervalMs;
  const timer = setInterval(() => {
    const now = performance.now();
    const late = Math.max(0, now - expected);
    lag = late > lag ? late : lag * 0.7 + late * 0.3;
    expected = now + intervalMs;
  }, intervalMs);
  timer.unref();
  return {
    /** The smoothed lag, in ms. */
    get ms(): number {
      return lag;
    },
    close(): void {
      clearInterval(timer);
    },
  };
}

export type EventLoopLag = ReturnType<typeof eventLoopLag>;
