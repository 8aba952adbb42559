import { ConsumerHaltedError } from '../runtime/log-consumer.js';
import type { EventStore, Position } from '../stores/event-store/port.js';

/** Where a consumer kept outside the log (a projection) stands: a position, and the log it was taken against. */
export interface ExternalCheckpoint {
  readonly position: Position;
  /** The store's epoch when it was written ('' in checkpoints older than epochs). */
  readonly epoch: string;
  /** The id of the event at `position` ('' in older checkpoints). */
  readonly eventId: string;
}

/** The remedy a mismatched checkpoint's error names. */
export const rebuildCommand = (name: string) =>
  `rebuild it from the log with 'npm run projection:rebuild -- ${name}' (stop the service first)`;

/**
 * Refuses a checkpoint that does not belong to this log: written against another store (another
 * epoch), ahead of the log's head (a lost write-ahead-log tail, a restored backup), or at a position
 * that now holds another event (the log was rewound and positions were used again). Such a consumer
 * would skip or misplace events in silence; instead it halts with the reason and the remedy. A
 * position whose event is gone (expired and scavenged) is fine.
 */
export async function verifyCheckpoint(
  events: EventStore,
  name: string,
  checkpoint: ExternalCheckpoint | null,
): Promise<void> {
  if (!checkpoint) return;
  const halt = (why: string) =>
    new ConsumerHaltedError(
      `projection ${name}: its checkpoint (position ${checkpoint.position}) ${why}; ${rebuildCommand(name)}`,
    );
  const { epoch } = await events.identity();
  if (checkpoint.epoch && checkpoint.epoch !== epoch)
    throw halt(`was taken against another event store (epoch ${checkpoint.epoch}; this one is ${epoch})`);
  const head = await events.highestPosition();
  if (head === null || head < checkpoint.position)
    throw halt(`is ahead of the log, whose head is ${head ?? 'empty'}: the log lost events it had`);
  if (checkpoint.eventId) {
    const at = await events.readAt(checkpoint.position);
    if (at && at.id !== checkpoint.eventId)
      throw halt(
        `names event ${checkpoint.eventId}, but that position now holds ${at.id}: the log was rewound and its positions used again`,
      );
  }
}
