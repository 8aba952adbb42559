/**
 * Long CPU work on the main thread gives the event loop a turn now and then, so that a health probe or
 * a small request never waits behind it for long. `due()` is cheap to call in a hot loop: it looks at
 * the clock only every `every` calls, and says whether `budgetMs` have passed since the last turn.
 */
export function timeSlicer(budgetMs = 8, every = 256) {
  let calls = 0;
  let since = performance.now();
  return {
    due(): boolean {
      if (++calls % every !== 0) return false;
      return performance.now() - since >= budgetMs;
    },
    /** Gives the event loop a turn (I/O callbacks included), then starts a new slice. */
    async yield(): Promise<void> {
      await new Promise<void>((resolve) => setImmediate(resolve));
      since = performance.now();
    },
  };
}

/**
 * Lets one piece of CPU-heavy work run at a time, after a turn of the event loop: requests queue here
 * instead of each holding the event loop in turn, so other I/O (health probes) is served between them.
 */
export function cpuGate() {
  let tail: Promise<void> = Promise.resolve();
  return function run<T>(work: () => Promise<T>): Promise<T> {
    const next = tail.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(work);
    tail = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  };
}

export type TimeSlicer = ReturnType<typeof timeSlicer>;
