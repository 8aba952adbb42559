import type { Logger } from 'pino';
import type { ActorHost } from '../actors/host.js';
import type { CollectionAgent } from '../collection/agent.js';
import { type ConfigEntry, contentHash, type EntryCommand } from '../domain/configuration/entry.js';
import {
  initialScrapeConfig,
  type ScrapeConfigState,
  type ScrapeTargetDefinition,
  scrapeTargetFact,
} from '../domain/configuration/scrape-targets.js';
import { prometheusScraper } from '../ingest/prometheus/scrape.js';
import {
  type ChangedBy,
  contextOf,
  NotRunningError,
  recordEntryChange,
  SEED_PRINCIPAL,
  serialQueue,
} from './common.js';

export interface ScrapeTargetConfiguration {
  /** Seeds the settings' targets (see `decideEntry`), then scrapes every active target. */
  start(seed: readonly ScrapeTargetDefinition[]): Promise<void>;
  /** Stops every scrape agent (each flushing what it holds). */
  stop(): Promise<void>;
  /** Records the change in `scrapeconfig-<id>` (principal `by`), then starts, restarts or stops its agent. */
  change(
    name: string,
    command: EntryCommand<ScrapeTargetDefinition>,
    who: ChangedBy,
  ): Promise<ConfigEntry<ScrapeTargetDefinition>>;
  list(): Promise<readonly ConfigEntry<ScrapeTargetDefinition>[]>;
}

export interface ScrapeTargetConfigurationOptions {
  readonly id?: string;
  readonly host: ActorHost;
  readonly logger: Logger;
  /** A new collection agent with this id (registered with the service's agents). */
  readonly agent: (id: string) => CollectionAgent;
  /** Forgets a stopped agent. */
  readonly forget: (agent: CollectionAgent) => void;
  /** For targets that do not set their own interval, and the largest body of any scrape. */
  readonly defaults: { readonly intervalMs: number; readonly maxBodyBytes: number };
  readonly now?: () => number;
}

/**
 * Prometheus scrape targets configured at run time: the actor `scrapeconfig-<id>` records every change,
 * and each active target is scraped by a collection agent of its own, `scrape-<name>`, started,
 * restarted (on an update) and stopped as the facts say.
 */
export function createScrapeTargetConfiguration(
  options: ScrapeTargetConfigurationOptions,
): ScrapeTargetConfiguration {
  const { host } = options;
  const id = options.id ?? 'main';
  const address = { kind: 'scrapeconfig', id };
  const log = options.logger.child({ configuration: 'scrapeTargets' });
  const now = options.now ?? Date.now;
  const serial = serialQueue();
  const running = new Map<string, { agent: CollectionAgent; hash: string }>();
  let live = false;
  let stopped = false;

  const stateOf = () => contextOf<ScrapeConfigState>(host, address, () => initialScrapeConfig(id));

  async function halt(name: string): Promise<void> {
    const scraping = running.get(name);
    if (!scraping) return;
    running.delete(name);
    await scraping.agent.stop();
    options.forget(scraping.agent);
  }

  async function launch(target: ScrapeTargetDefinition): Promise<void> {
    const agent = options.agent(`scrape-${target.name}`);
    await agent.start(['scrape']);
    agent.sample(
      prometheusScraper(agent, {
        name: target.name,
        url: target.url,
        ...(target.timeoutMs ? { timeoutMs: target.timeoutMs } : {}),
        maxBodyBytes: options.defaults.maxBodyBytes,
      }),
      target.intervalMs ?? options.defaults.intervalMs,
    );
    running.set(target.name, { agent, hash: contentHash(target) });
    log.info({ target: target.name, url: target.url }, 'scraping');
  }

  /** Makes the agents match the entry: scraping its definition while active, stopped otherwise. */
  async function follow(entry: ConfigEntry<ScrapeTargetDefinition> | undefined, name: string): Promise<void> {
    const wanted = entry?.status === 'active' ? entry.definition : null;
    const current = running.get(name);
    if (wanted && current?.hash === contentHash(wanted)) return;
    await halt(name);
    if (wanted) await launch(wanted);
  }

  async function apply(
    name: string,
    command: EntryCommand<ScrapeTargetDefinition>,
    who: ChangedBy,
  ): Promise<ConfigEntry<ScrapeTargetDefinition>> {
    if (stopped) throw new NotRunningError('scrape targets');
    await recordEntryChange({
      host,
      address,
      what: 'scrape target',
      id: name,
      before: (await stateOf()).targets[name],
      command,
      who,
      at: now(),
      factOf: (c, stamp) => scrapeTargetFact(name, c, stamp),
    });
    const entry = (await stateOf()).targets[name];
    if (!entry) throw new Error(`scrape target ${name} has no configuration after its change`);
    if (live) await follow(entry, name);
    return entry;
  }

  return {
    start: (seed) =>
      serial(async () => {
        for (const target of seed)
          await apply(
            target.name,
            { type: 'seed', definition: target },
            { by: SEED_PRINCIPAL, origin: 'seed' },
          );
        live = true;
        for (const [name, entry] of Object.entries((await stateOf()).targets)) await follow(entry, name);
      }),

    stop: () =>
      serial(async () => {
        live = false;
        stopped = true;
        for (const name of [...running.keys()]) await halt(name);
      }),

    change: (name, command, who) => serial(() => apply(name, command, who)),

    list: async () => Object.values((await stateOf()).targets),
  };
}
