import type { ActorAddress, ActorHost } from '../actors/host.js';
import {
  type ChangeOrigin,
  type ChangeStamp,
  type ConfigEntry,
  decideEntry,
  type EntryChange,
  type EntryCommand,
  seedCommandId,
} from '../domain/configuration/entry.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';

/** The principal of changes a settings file (PIPELINES_FILE, ALERT_RULES_FILE, …) seeds at start. */
export const SEED_PRINCIPAL = 'system:config';

/** Who asks for a change (recorded as the envelope's principal and in the fact), and from where. */
export interface ChangedBy {
  readonly by: string;
  readonly origin?: ChangeOrigin;
}

/** Runs work one at a time, in the order asked: a failed one does not stop the next. */
export function serialQueue(): <T>(work: () => Promise<T>) => Promise<T> {
  let queue: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>) => {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  };
}

/** An actor's folded context; `initial` when it has no stream yet. */
export async function contextOf<T>(host: ActorHost, address: ActorAddress, initial: () => T): Promise<T> {
  try {
    return (await host.get(address)).context as T;
  } catch (error) {
    if (error instanceof NotFoundError) return initial();
    throw error;
  }
}

/** A change asked for while the service stops: refused, nothing recorded. */
export class NotRunningError extends ConflictError {
  constructor(what: string) {
    super(`${what} cannot be changed now: the service is stopping`);
    this.name = 'NotRunningError';
  }
}

/**
 * Decides what a command changes in one entry and records it in the owner's stream, with the caller as
 * the principal (a seed with a command id, so seeding the same file twice records it once). Returns
 * the change recorded, or null when the command changes nothing.
 */
export async function recordEntryChange<T>(options: {
  readonly host: ActorHost;
  readonly address: ActorAddress;
  /** What the entry is, for errors: `scrape target`, `complex-event rule`. */
  readonly what: string;
  readonly id: string;
  readonly before: ConfigEntry<T> | undefined;
  readonly command: EntryCommand<T>;
  readonly who: ChangedBy;
  readonly at: number;
  readonly factOf: (change: EntryChange<T>, stamp: ChangeStamp) => { readonly type: string };
}): Promise<EntryChange<T> | null> {
  const { id, before, command, who } = options;
  const change = decideEntry(options.what, id, before, command);
  if (!change) return null;
  await options.host.send(
    options.address,
    options.factOf(change, { by: who.by, at: options.at, origin: who.origin ?? 'api' }),
    {
      principal: who.by,
      ...(command.type === 'seed' ? { commandId: seedCommandId(id, command.definition, before) } : {}),
    },
  );
  return change;
}
