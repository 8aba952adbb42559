import type { Logger } from 'pino';
import type { ActorHost } from '../actors/host.js';
import type { PipelineContext } from '../actors/pipeline.machine.js';
import {
  type ChangeStamp,
  type ConfigEntry,
  decideEntry,
  type EntryChange,
  type EntryCommand,
  seedCommandId,
} from '../domain/configuration/entry.js';
import type { PipelineDefinition } from '../domain/pipeline/definition.js';
import type { PipelineEvent } from '../domain/pipeline/events.js';
import type { PipelineRuntime, PipelineStatus } from '../pipelines/runtime.js';
import type { EventStore, Position } from '../stores/event-store/port.js';
import { type ChangedBy, NotRunningError, SEED_PRINCIPAL, serialQueue } from './common.js';

/** A pipeline as configured, and how its consumer runs here. */
export interface PipelineView {
  readonly id: string;
  readonly config: ConfigEntry<PipelineDefinition>;
  /** Its actor's lifecycle state: defined, running, stopped, paused or deleted. */
  readonly state: string;
  /** The consumer's status while it runs in this process; null otherwise. */
  readonly runtime: PipelineStatus | null;
}

export interface PipelineConfiguration {
  /**
   * Learns every pipeline the log knows, seeds the file's definitions (see `decideEntry`), then starts
   * a consumer for each active one. Changes after this start, update, and stop consumers live.
   */
  start(seed: readonly PipelineDefinition[]): Promise<void>;
  /** Stops every consumer (each with a final checkpoint); later changes are refused. */
  stop(): Promise<void>;
  /** Records the change in `pipeline-<id>` (principal `by`), then applies it to the running consumer. */
  change(id: string, command: EntryCommand<PipelineDefinition>, who: ChangedBy): Promise<PipelineView>;
  list(): Promise<PipelineView[]>;
  get(id: string): Promise<PipelineView | null>;
  /** The consumers running now. */
  runtimes(): readonly PipelineRuntime[];
}

export interface PipelineConfigurationOptions {
  readonly events: EventStore;
  readonly host: ActorHost;
  readonly logger: Logger;
  /** A consumer for a definition, starting after `startAfter` when it has no checkpoint. */
  readonly runtime: (definition: PipelineDefinition, startAfter: Position | null) => PipelineRuntime;
  readonly now?: () => number;
}

function pipelineFact(change: EntryChange<PipelineDefinition>, stamp: ChangeStamp): PipelineEvent {
  switch (change.kind) {
    case 'defined':
      return { type: 'pipelineDefined', definition: change.definition, ...stamp };
    case 'updated':
      return {
        type: 'pipelineUpdated',
        definition: change.definition,
        changes: [...change.changes],
        ...stamp,
      };
    case 'paused':
      return { type: 'pipelinePaused', ...stamp };
    case 'resumed':
      return { type: 'pipelineResumed', ...stamp };
    case 'deleted':
      return { type: 'pipelineDeleted', ...stamp };
  }
}

/**
 * Pipelines configured at run time: each is the actor `pipeline-<id>`, whose facts say what it is
 * (defined, updated, paused, resumed, deleted: who, when, what changed) and whose consumer (a
 * PipelineRuntime) runs while it is active. Every change is recorded before it is applied, and
 * changes are applied one at a time; a restart folds the streams and starts the active pipelines.
 */
export function createPipelineConfiguration(options: PipelineConfigurationOptions): PipelineConfiguration {
  const { events, host, logger } = options;
  const log = logger.child({ configuration: 'pipelines' });
  const now = options.now ?? Date.now;
  const serial = serialQueue();
  const runtimes = new Map<string, PipelineRuntime>();
  const known = new Set<string>();
  let live = false;
  let stopped = false;

  const address = (id: string) => ({ kind: 'pipeline', id });
  const stateOf = async (id: string) => {
    try {
      const view = await host.get(address(id));
      return { state: String(view.state), context: view.context as PipelineContext };
    } catch (error) {
      if ((error as { code?: unknown }).code === 'NOT_FOUND') return null;
      throw error;
    }
  };

  /** Where the pipeline's latest definition stands in the log: it analyses what comes after. */
  async function definedAt(id: string): Promise<Position | null> {
    for await (const event of events.readStream(`pipeline-${id}`, { direction: 'backwards' }))
      if (event.type === 'pipelineDefined') return event.position;
    return null;
  }

  /** Whether every fact of the pipeline predates run-time configuration (none carries an origin). */
  async function fromFileOnly(id: string): Promise<boolean> {
    for await (const event of events.readStream(`pipeline-${id}`))
      if ((event.data as { origin?: unknown }).origin !== undefined) return false;
    return true;
  }

  async function launch(id: string, definition: PipelineDefinition): Promise<void> {
    const runtime = options.runtime(definition, await definedAt(id));
    runtimes.set(id, runtime);
    try {
      await runtime.start();
    } catch (error) {
      runtimes.delete(id);
      await runtime.stop().catch(() => undefined);
      throw error;
    }
  }

  async function halt(id: string, record: boolean): Promise<PipelineRuntime | null> {
    const runtime = runtimes.get(id);
    if (!runtime) return null;
    runtimes.delete(id);
    await runtime.stop({ record });
    return runtime;
  }

  async function viewOf(id: string): Promise<PipelineView | null> {
    const found = await stateOf(id);
    if (!found?.context.config) return null;
    return {
      id,
      config: found.context.config,
      state: found.state,
      runtime: runtimes.get(id)?.status() ?? null,
    };
  }

  async function apply(
    id: string,
    command: EntryCommand<PipelineDefinition>,
    who: ChangedBy,
  ): Promise<PipelineView> {
    if (stopped) throw new NotRunningError('pipelines');
    const before = (await stateOf(id))?.context.config ?? undefined;
    const change = decideEntry('pipeline', id, before, command);
    if (change) {
      const stamp: ChangeStamp = { by: who.by, at: now(), origin: who.origin ?? 'api' };
      const envelope = {
        principal: who.by,
        ...(command.type === 'seed' ? { commandId: seedCommandId(id, command.definition, before) } : {}),
      };
      const fact = pipelineFact(change, stamp);
      if (change.kind === 'paused' || change.kind === 'deleted') {
        // Analysis stops (with a final checkpoint) before the fact says so.
        const halted = await halt(id, false);
        try {
          await host.send(address(id), fact, envelope);
        } catch (error) {
          if (halted && live && before)
            await launch(id, before.definition).catch((e: unknown) =>
              log.error({ err: e, pipeline: id }, 'pipeline not restarted after a refused change'),
            );
          throw error;
        }
      } else {
        await host.send(address(id), fact, envelope);
        known.add(id);
        const config = (await stateOf(id))?.context.config;
        if (live && config?.status === 'active') {
          // An update restarts the consumer with the new definition, from its checkpoint.
          if (change.kind === 'updated') await halt(id, true);
          if (!runtimes.has(id)) await launch(id, config.definition);
        }
      }
    }
    const view = await viewOf(id);
    if (!view) throw new Error(`pipeline ${id} has no configuration after its change`);
    return view;
  }

  return {
    start: (seed) =>
      serial(async () => {
        for await (const event of events.readAll({
          filter: { categories: ['pipeline'], eventTypes: ['pipelineDefined'] },
        }))
          known.add(event.streamId.slice('pipeline-'.length));
        for (const definition of seed)
          await apply(definition.id, { type: 'seed', definition }, { by: SEED_PRINCIPAL, origin: 'seed' });
        // Pipelines defined before they were configured at run time had the file as their truth: one
        // the file no longer lists was not running, and is recorded as deleted (once) rather than revived.
        const listed = new Set(seed.map((d) => d.id));
        for (const id of [...known].sort()) {
          if (listed.has(id) || !(await fromFileOnly(id))) continue;
          const config = (await stateOf(id))?.context.config;
          if (config && config.status !== 'deleted')
            await apply(id, { type: 'delete' }, { by: SEED_PRINCIPAL, origin: 'seed' });
        }
        live = true;
        for (const id of [...known].sort()) {
          const config = (await stateOf(id))?.context.config;
          if (config?.status === 'active' && !runtimes.has(id)) await launch(id, config.definition);
        }
      }),

    stop: () =>
      serial(async () => {
        live = false;
        stopped = true;
        for (const id of [...runtimes.keys()]) await halt(id, true);
      }),

    change: (id, command, who) => serial(() => apply(id, command, who)),

    async list() {
      const views: PipelineView[] = [];
      for (const id of [...known].sort()) {
        const view = await viewOf(id);
        if (view) views.push(view);
      }
      return views;
    },

    get: (id) => viewOf(id),

    runtimes: () => [...runtimes.values()],
  };
}
