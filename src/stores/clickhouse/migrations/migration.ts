import type { AnalyticsStore } from '../client.js';

/** One step of the analytics schema: its version, a name, and its (idempotent) statements. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  statements(store: AnalyticsStore): readonly string[];
}
