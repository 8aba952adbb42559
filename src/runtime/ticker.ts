/**
 * Work done on a clock: `everyMs` after the previous run ended (never two runs at once), or now with
 * `tick()` (which joins a run in progress rather than starting another). `stop()` cancels the next run
 * and waits for the one in progress.
 */
export interface Ticker {
  start(): void;
  tick(): Promise<void>;
  stop(): Promise<void>;
}

export function createTicker(work: () => Promise<void>, everyMs: number): Ticker {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;

  function tick(): Promise<void> {
    if (!running)
      running = work().finally(() => {
        running = null;
      });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      // A failed run is the work's to report; the clock goes on.
      void tick()
        .catch(() => {})
        .finally(schedule);
    }, everyMs);
    timer.unref();
  }

  return {
    start: schedule,
    tick,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
}
