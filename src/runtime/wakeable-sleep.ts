/** A sleep that can be cut short: `wakeAll()` resolves every pending sleep at once (a stop, say). */
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
