import type { EventFilter, EventStore, Position } from '../stores/event-store/port.js';

/**
 * "Wait until this reader has handled the log up to here", shared by the projection runner, the
 * pipeline runtime and the alert manager. A reader calls `advanced(position)` whenever its position
 * moves; `waitFor` resolves once it has handled every event it will ever see up to `target`
 * (default: the head of the log now). Events its filter skips never move it, so the wait is for the
 * last event the filter passes (and `accept` keeps), not for the head itself.
 */
export function createProgress(reader: {
  readonly events: EventStore;
  readonly filter?: EventFilter;
  readonly accept?: (event: { streamId: string }) => boolean;
  /** Where the reader stands now. */
  readonly position: () => Position | null;
}) {
  const waiters = new Set<{ position: Position; resolve: () => void }>();
  const reached = (p: Position) => {
    const at = reader.position();
    return at !== null && at >= p;
  };
  return {
    advanced(): void {
      for (const waiter of waiters) {
        if (reached(waiter.position)) {
          waiters.delete(waiter);
          waiter.resolve();
        }
      }
    },

    async waitFor(position?: Position | null): Promise<void> {
      const target = position === undefined ? await reader.events.headPosition() : position;
      if (target === null || reached(target)) return;
      let goal: Position | null = target;
      if (reader.filter || reader.accept) {
        goal = null;
        const from = reader.position();
        for await (const event of reader.events.readAll({
          ...(reader.filter ? { filter: reader.filter } : {}),
          ...(from === null ? {} : { after: from }),
        })) {
          if (event.position > target) break;
          if (!reader.accept || reader.accept(event)) goal = event.position;
        }
        if (goal === null) return;
      }
      const wanted = goal;
      await new Promise<void>((resolve) => {
        if (reached(wanted)) resolve();
        else waiters.add({ position: wanted, resolve });
      });
    },
  };
}
