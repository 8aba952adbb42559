import { z } from 'zod';
import { ChangeStamp, type ConfigEntry, type EntryChange, evolveEntries, FieldChange } from './entry.js';

/** A Prometheus text endpoint scraped by an agent of its own (`scrape-<name>`). */
export const ScrapeTargetDefinition = z
  .object({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,99}$/, 'must be lower-case letters, digits and _ (starting with a letter)'),
    url: z.string().regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL'),
    /** How often it is scraped; absent: `SCRAPE_INTERVAL_MS`. */
    intervalMs: z.number().int().min(100).max(3_600_000).optional(),
    /** How long a scrape may take; absent: 10 s. */
    timeoutMs: z.number().int().min(100).max(600_000).optional(),
  })
  .strict();
export type ScrapeTargetDefinition = z.infer<typeof ScrapeTargetDefinition>;

/** The scrape configuration's facts, in `scrapeconfig-<id>`: every change to a scrape target. */
export const SCRAPE_CONFIG_EVENT_SCHEMA_VERSION = 1;
const name = z.string().min(1);

export const ScrapeConfigEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('scrapeTargetDefined'), target: ScrapeTargetDefinition, ...ChangeStamp.shape }),
  z.object({
    type: z.literal('scrapeTargetUpdated'),
    target: ScrapeTargetDefinition,
    changes: z.array(FieldChange),
    ...ChangeStamp.shape,
  }),
  z.object({ type: z.literal('scrapeTargetPaused'), name, ...ChangeStamp.shape }),
  z.object({ type: z.literal('scrapeTargetResumed'), name, ...ChangeStamp.shape }),
  z.object({ type: z.literal('scrapeTargetDeleted'), name, ...ChangeStamp.shape }),
]);
export type ScrapeConfigEvent = z.infer<typeof ScrapeConfigEvent>;

/** The scrape targets as their facts leave them (deleted ones kept, with their last definition). */
export interface ScrapeConfigState {
  readonly id: string;
  readonly targets: Readonly<Record<string, ConfigEntry<ScrapeTargetDefinition>>>;
}

export const initialScrapeConfig = (id: string): ScrapeConfigState => ({ id, targets: {} });

/** The fact that records a change to the target `name`. */
export function scrapeTargetFact(
  name: string,
  change: EntryChange<ScrapeTargetDefinition>,
  stamp: ChangeStamp,
): ScrapeConfigEvent {
  switch (change.kind) {
    case 'defined':
      return { type: 'scrapeTargetDefined', target: change.definition, ...stamp };
    case 'updated':
      return {
        type: 'scrapeTargetUpdated',
        target: change.definition,
        changes: [...change.changes],
        ...stamp,
      };
    case 'paused':
      return { type: 'scrapeTargetPaused', name, ...stamp };
    case 'resumed':
      return { type: 'scrapeTargetResumed', name, ...stamp };
    case 'deleted':
      return { type: 'scrapeTargetDeleted', name, ...stamp };
  }
}

/** The state after one more fact. Pure. */
export function evolveScrapeConfig(state: ScrapeConfigState, event: ScrapeConfigEvent): ScrapeConfigState {
  const { by, at, origin } = event;
  const stamp = { by, at, origin };
  const apply = (id: string, change: EntryChange<ScrapeTargetDefinition>) => ({
    ...state,
    targets: evolveEntries(state.targets, id, change, stamp),
  });
  switch (event.type) {
    case 'scrapeTargetDefined':
      return apply(event.target.name, { kind: 'defined', definition: event.target });
    case 'scrapeTargetUpdated':
      return apply(event.target.name, { kind: 'updated', definition: event.target, changes: event.changes });
    case 'scrapeTargetPaused':
      return apply(event.name, { kind: 'paused' });
    case 'scrapeTargetResumed':
      return apply(event.name, { kind: 'resumed' });
    case 'scrapeTargetDeleted':
      return apply(event.name, { kind: 'deleted' });
  }
}
