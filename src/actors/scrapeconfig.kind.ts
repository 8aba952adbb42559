import {
  SCRAPE_CONFIG_EVENT_SCHEMA_VERSION,
  ScrapeConfigEvent,
} from '../domain/configuration/scrape-targets.js';
import { defineActorKind } from './actor-kind.js';
import { parseWith } from './parse.js';
import { SCRAPECONFIG_MACHINE_VERSION, scrapeConfigMachine } from './scrapeconfig.machine.js';

export function scrapeConfigKind() {
  return defineActorKind({
    kind: 'scrapeconfig',
    machine: scrapeConfigMachine,
    machineVersion: SCRAPECONFIG_MACHINE_VERSION,
    schemaVersion: SCRAPE_CONFIG_EVENT_SCHEMA_VERSION,
    parseEvent: (input) => parseWith(ScrapeConfigEvent, input),
    effectFailed: () => null,
  });
}
