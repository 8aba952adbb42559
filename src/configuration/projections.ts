import { randomUUID } from 'node:crypto';
import { ValidationError } from '../domain/errors.js';
import { checkFact, factVersion } from '../domain/facts.js';
import type { ProjectionRunner, ProjectionStatus } from '../projections/runner.js';
import { envelope } from '../runtime/envelope.js';
import type { EventStore, JsonValue } from '../stores/event-store/port.js';
import { serialQueue } from './common.js';

/** A rebuild asked for: the fact that records who asked (and where it is in the log), and how it stands. */
export interface ProjectionRebuild {
  readonly projection: string;
  readonly requestedBy: string;
  readonly requestedAt: number;
  readonly position: bigint;
  readonly status: ProjectionStatus;
}

export interface ProjectionControl {
  list(): Promise<ProjectionStatus[]>;
  /**
   * Records who asked (`projectionRebuildRequested` in `projection-<name>`), then stops the running
   * projection, drops its checkpoint and rows, and starts it again from position 0. Resolves once it
   * has started; its status (here, /readyz, /metrics) shows it catching up.
   */
  rebuild(name: string, by: string): Promise<ProjectionRebuild>;
}

export function createProjectionControl(options: {
  readonly events: EventStore;
  readonly projections: readonly ProjectionRunner[];
  readonly now?: () => number;
}): ProjectionControl {
  const { events, projections } = options;
  const now = options.now ?? Date.now;
  const serial = serialQueue();

  return {
    list: () => Promise.all(projections.map((p) => p.status())),

    rebuild: (name, by) =>
      serial(async () => {
        const runner = projections.find((p) => p.name === name);
        if (!runner)
          throw new ValidationError(`no projection '${name}'`, [
            { path: 'name', message: `must be one of ${projections.map((p) => p.name).join(', ')}` },
          ]);
        const at = now();
        const data = checkFact('projectionRebuildRequested', { projection: name, by, at });
        const id = randomUUID();
        const appended = await events.append(`projection-${name}`, [
          {
            id,
            type: 'projectionRebuildRequested',
            data: data as unknown as JsonValue,
            metadata: envelope(
              { principal: by, schemaVersion: factVersion('projectionRebuildRequested') },
              id,
            ),
          },
        ]);
        await runner.rebuild();
        return {
          projection: name,
          requestedBy: by,
          requestedAt: at,
          position: appended.position,
          status: await runner.status(),
        };
      }),
  };
}
