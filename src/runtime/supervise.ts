/**
 * Runs `work` until it returns or `stopped()` says stop; when it throws, reports the failure and
 * runs it again after an exponential backoff (250 ms doubling, at most 30 s) that `wake` cuts short.
 * The loop shared by the projection runner and the pipeline runtime: both resume from their stored
 * checkpoint when a store fails underneath them.
 */
export async function supervise(options: {
  work: () => Promise<void>;
  stopped: () => boolean;
  onFailure: (error: unknown, attempt: number) => void;
  sleep: (ms: number) => Promise<void>;
}): Promise<void> {
  for (let attempt = 0; !options.stopped(); attempt++) {
    try {
      await options.work();
      return;
    } catch (error) {
      if (options.stopped()) return;
      options.onFailure(error, attempt);
      await options.sleep(Math.min(30_000, 250 * 2 ** attempt));
    }
  }
}

/** A sleep that can be cut short: `wakeAll()` resolves every pending sleep at once. */
export function wakeableSleep() {
  const sleepers = new Set<() => void>();
  return {
    sleep(ms: number): Promise<void> {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          sleepers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        sleepers.add(done);
      });
    },
    wakeAll(): void {
      for (const wake of [...sleepers]) wake();
    },
  };
}
