import type { EventFilter, RecordedEvent } from '../stores/event-store/port.js';

/** A row for JSONEachRow: 64-bit integers as strings. Every row carries the `position` of its event. */
export type Row = Record<string, string | number | boolean | null> & { position: string };

/**
 * A named read model fed from the log. `map` is pure: the same events always give the same rows,
 * which is what lets the runner replay a batch after a crash.
 */
export interface Projection {
  readonly name: string;
  readonly filter?: EventFilter;
  /** The tables it writes (names without the database). Each has a `position UInt64` column. */
  readonly tables: readonly string[];
  map(events: readonly RecordedEvent[]): Readonly<Record<string, readonly Row[]>>;
}
