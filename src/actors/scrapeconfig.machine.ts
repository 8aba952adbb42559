import { assign, setup } from 'xstate';
import {
  evolveScrapeConfig,
  initialScrapeConfig,
  type ScrapeConfigEvent,
  type ScrapeConfigState,
} from '../domain/configuration/scrape-targets.js';

export const SCRAPECONFIG_MACHINE_VERSION = 1;

/**
 * The scrape configuration's actor (`scrapeconfig-<id>`): one running state whose context is the fold
 * of its target changes through the domain's pure `evolveScrapeConfig`. Which change is allowed is
 * decided before it is sent (`decideEntry`); the machine records.
 */
export const scrapeConfigMachine = setup({
  types: { context: {} as ScrapeConfigState, events: {} as ScrapeConfigEvent, input: {} as { id: string } },
  actions: { record: assign(({ context, event }) => evolveScrapeConfig(context, event)) },
}).createMachine({
  id: 'scrapeconfig',
  context: ({ input }) => initialScrapeConfig(input.id),
  initial: 'running',
  states: {
    running: {
      on: {
        scrapeTargetDefined: { actions: 'record' },
        scrapeTargetUpdated: { actions: 'record' },
        scrapeTargetPaused: { actions: 'record' },
        scrapeTargetResumed: { actions: 'record' },
        scrapeTargetDeleted: { actions: 'record' },
      },
    },
  },
});
