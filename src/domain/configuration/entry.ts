import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors.js';
import { TimeMs } from '../primitives.js';

/**
 * Runtime configuration as facts. Pipelines, alert rules, complex-event rules and scrape targets are
 * entries that are defined, updated, paused, resumed and deleted; each change is a fact in the stream
 * of the actor that owns the entry, and the entry as of any point is the fold of those facts through
 * `evolveEntry`. `decideEntry` is the one place that says which command changes what.
 */

/** Where a change came from: a caller of the API, or a settings file seeding the entry at start. */
export const CHANGE_ORIGINS = ['api', 'seed'] as const;
export type ChangeOrigin = (typeof CHANGE_ORIGINS)[number];

/** Who changed an entry (the principal, as in the envelope), when, and from where. */
export const ChangeStamp = z.object({
  by: z.string().min(1).max(200),
  at: TimeMs,
  origin: z.enum(CHANGE_ORIGINS),
});
export type ChangeStamp = z.infer<typeof ChangeStamp>;

/**
 * One field an update changed: its path (`stages.0.window.sizeMs`), the value before and after (absent:
 * not set). The values are JSON: they come from definitions that are.
 */
export const FieldChange = z.object({
  path: z.string(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});
export type FieldChange = z.infer<typeof FieldChange>;

/** At most this many field changes are listed in one update (the definition itself is always whole). */
export const MAX_FIELD_CHANGES = 100;

export type EntryStatus = 'active' | 'paused' | 'deleted';

/** One configuration entry as its facts leave it. */
export interface ConfigEntry<T> {
  readonly id: string;
  readonly status: EntryStatus;
  /** The definition in force (a deleted entry keeps its last one). */
  readonly definition: T;
  /** How many changes it has had. */
  readonly version: number;
  /** When, and by whom, it was (last) created. */
  readonly createdAt: number;
  readonly createdBy: string;
  readonly updatedAt: number;
  readonly updatedBy: string;
  readonly origin: ChangeOrigin;
  /**
   * The content hashes of the definitions it has held since a settings file last set it (every one,
   * if no file ever did): what the seeding rule compares a file's entry with.
   */
  readonly heldSinceSeed: readonly string[];
}

/** What one fact does to an entry. */
export type EntryChange<T> =
  | { readonly kind: 'defined'; readonly definition: T }
  | { readonly kind: 'updated'; readonly definition: T; readonly changes: readonly FieldChange[] }
  | { readonly kind: 'paused' }
  | { readonly kind: 'resumed' }
  | { readonly kind: 'deleted' };

/** What a caller (or a settings file, `seed`) asks of an entry. */
export type EntryCommand<T> =
  | { readonly type: 'create'; readonly definition: T }
  | { readonly type: 'update'; readonly definition: T }
  | { readonly type: 'seed'; readonly definition: T }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  | { readonly type: 'delete' };

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON with object keys sorted: the same content gives the same text, whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value))
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** A definition's content hash (sha-256 of its canonical JSON, 32 hex digits). */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 32);
}

/** The fields that differ between two definitions, leaf by leaf (at most MAX_FIELD_CHANGES). */
export function diffDefinitions(before: unknown, after: unknown): FieldChange[] {
  const out: FieldChange[] = [];
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (out.length >= MAX_FIELD_CHANGES) return;
    const at = (key: string | number) => (path ? `${path}.${key}` : String(key));
    if (isPlainObject(a) && isPlainObject(b)) {
      for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
        walk(a[key], b[key], at(key));
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], at(i));
      return;
    }
    if (canonicalJson(a) === canonicalJson(b)) return;
    out.push({
      path: path || '(root)',
      ...(a === undefined ? {} : { before: a }),
      ...(b === undefined ? {} : { after: b }),
    });
  };
  walk(before, after, '');
  return out;
}

/**
 * What a command changes (null: nothing, it is so already). Throws a ConflictError when creating an
 * entry that exists, a NotFoundError when changing one that does not (or was deleted).
 *
 * `seed` is a settings file's entry at start. It is applied only when the file says something new: when
 * the log has no such entry, or when the file's definition is none of those the entry has held since a
 * file last set it. So restarting with the same file records nothing; a change made through the API
 * (an update, a pause, a deletion) stands until the file's entry itself changes; and a changed file
 * entry updates the entry (a deleted one is created again; a paused one stays paused).
 */
export function decideEntry<T>(
  what: string,
  id: string,
  entry: ConfigEntry<T> | undefined,
  command: EntryCommand<T>,
): EntryChange<T> | null {
  const gone = !entry || entry.status === 'deleted';
  const missing = () => new NotFoundError(`no ${what} '${id}'${entry ? ' (it was deleted)' : ''}`);
  switch (command.type) {
    case 'create':
      // The same create again (a retry after a lost answer) changes nothing and is answered as the
      // first; another definition under a taken id is a conflict.
      if (!gone && contentHash(entry.definition) === contentHash(command.definition)) return null;
      if (!gone) throw new ConflictError(`${what} '${id}' exists already: update it, or delete it first`);
      return { kind: 'defined', definition: command.definition };
    case 'update': {
      if (gone) throw missing();
      if (contentHash(entry.definition) === contentHash(command.definition)) return null;
      return {
        kind: 'updated',
        definition: command.definition,
        changes: diffDefinitions(entry.definition, command.definition),
      };
    }
    case 'seed': {
      if (!entry) return { kind: 'defined', definition: command.definition };
      if (entry.heldSinceSeed.includes(contentHash(command.definition))) return null;
      if (entry.status === 'deleted') return { kind: 'defined', definition: command.definition };
      return {
        kind: 'updated',
        definition: command.definition,
        changes: diffDefinitions(entry.definition, command.definition),
      };
    }
    case 'pause':
      if (gone) throw missing();
      return entry.status === 'paused' ? null : { kind: 'paused' };
    case 'resume':
      if (gone) throw missing();
      return entry.status === 'active' ? null : { kind: 'resumed' };
    case 'delete':
      if (gone) throw missing();
      return { kind: 'deleted' };
  }
}

/** The entry after one more fact. Pure: the state as of any point is the fold of the facts up to it. */
export function evolveEntry<T>(
  entry: ConfigEntry<T> | undefined,
  id: string,
  change: EntryChange<T>,
  stamp: ChangeStamp,
): ConfigEntry<T> | undefined {
  const held = (definition: T) => {
    const hash = contentHash(definition);
    if (stamp.origin === 'seed') return [hash];
    const before = entry?.heldSinceSeed ?? [];
    return before.includes(hash) ? before : [...before, hash];
  };
  const touched = {
    version: (entry?.version ?? 0) + 1,
    updatedAt: stamp.at,
    updatedBy: stamp.by,
    origin: stamp.origin,
  };
  if (change.kind === 'defined') {
    const kept = entry && entry.status !== 'deleted' ? entry : null;
    return {
      id,
      status: 'active',
      definition: change.definition,
      ...touched,
      createdAt: kept ? kept.createdAt : stamp.at,
      createdBy: kept ? kept.createdBy : stamp.by,
      heldSinceSeed: held(change.definition),
    };
  }
  if (!entry) {
    // An update of an entry this fold never saw defined (it cannot be decided so): taken as its definition.
    return change.kind === 'updated'
      ? evolveEntry(undefined, id, { kind: 'defined', definition: change.definition }, stamp)
      : undefined;
  }
  switch (change.kind) {
    case 'updated':
      return { ...entry, ...touched, definition: change.definition, heldSinceSeed: held(change.definition) };
    case 'paused':
      return { ...entry, ...touched, status: 'paused' };
    case 'resumed':
      return { ...entry, ...touched, status: 'active' };
    case 'deleted':
      return { ...entry, ...touched, status: 'deleted' };
  }
}

/** A record of entries by id, after one more fact about one of them. */
export function evolveEntries<T>(
  entries: Readonly<Record<string, ConfigEntry<T>>>,
  id: string,
  change: EntryChange<T>,
  stamp: ChangeStamp,
): Readonly<Record<string, ConfigEntry<T>>> {
  const next = evolveEntry(entries[id], id, change, stamp);
  return next ? { ...entries, [id]: next } : entries;
}

/** The definitions in force (active entries), in the order they were first defined. */
export function activeDefinitions<T>(entries: Readonly<Record<string, ConfigEntry<T>>>): T[] {
  return Object.values(entries)
    .filter((e) => e.status === 'active')
    .map((e) => e.definition);
}

/**
 * The command id of a settings file's entry applied to an entry at a version: the same file entry on
 * the same state is one command, so two instances starting at once (or a retry) record it once.
 */
export function seedCommandId<T>(id: string, definition: T, entry: ConfigEntry<T> | undefined): string {
  return `seed:${id}:${contentHash(definition)}:v${entry?.version ?? 0}`;
}
