import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { API_KEY_FACTS } from '../domain/auth/events.js';
import type { Role } from '../domain/auth/roles.js';
import { NotFoundError } from '../domain/errors.js';
import { checkFact, factVersion, readFactOf } from '../domain/facts.js';
import { envelope } from '../runtime/envelope.js';
import type { EventStore, StreamRevision } from '../stores/event-store/port.js';

/** The one stream of API keys. */
export const API_KEYS_STREAM = 'apikeys-main';

/** A key as admins see it: never its secret. */
export interface ApiKeyInfo {
  readonly keyId: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAt: number;
  readonly createdBy: string;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
  readonly revokedBy: string | null;
}

interface KeyRecord extends ApiKeyInfo {
  readonly hash: Buffer;
}

/**
 * A key is `aul_<id>_<secret>`: 12 hex digits of id (to find the record without comparing every hash)
 * and 32 random bytes of secret. Only SHA-256 of the whole key is stored: with 256 bits of entropy a
 * fast hash is enough (a slow, salted one is for guessable passwords).
 */
const KEY_FORMAT = /^aul_([a-f0-9]{12})_([A-Za-z0-9_-]{43})$/;
export const isApiKeyShaped = (token: string) => token.startsWith('aul_');
const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * The API keys, folded from their stream and kept current by this instance's own writes. (Several
 * instances sharing one log each see another's new keys at their next start or `refresh()`.)
 */
export class ApiKeys {
  private readonly keys = new Map<string, KeyRecord>();
  private revision: StreamRevision | null = null;
  /** Writes one at a time, each expecting the revision the previous one left. */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(private readonly events: EventStore) {}

  /** Reads the stream from where this instance left it. */
  async refresh(): Promise<void> {
    const from = this.revision === null ? 'start' : this.revision + 1n;
    for await (const event of this.events.readStream(API_KEYS_STREAM, { fromRevision: from })) {
      const fact = readFactOf(event, 'apiKeyCreated', 'apiKeyRevoked');
      const by = String(event.metadata.principal ?? 'unknown');
      const at = event.createdAt.getTime();
      if (fact.type === 'apiKeyCreated')
        this.keys.set(fact.data.keyId, {
          keyId: fact.data.keyId,
          name: fact.data.name,
          role: fact.data.role,
          expiresAt: fact.data.expiresAt,
          hash: Buffer.from(fact.data.hash, 'hex'),
          createdAt: at,
          createdBy: by,
          revokedAt: null,
          revokedBy: null,
        });
      else {
        const key = this.keys.get(fact.data.keyId);
        if (key) this.keys.set(key.keyId, { ...key, revokedAt: at, revokedBy: by });
      }
      this.revision = event.revision;
    }
  }

  /** The role a presented key grants, or why it grants none. */
  verify(token: string, now = Date.now()): { keyId: string; role: Role } | { problem: string } {
    const match = KEY_FORMAT.exec(token);
    if (!match) return { problem: 'not a valid API key' };
    const key = this.keys.get(match[1]!);
    if (!key || !timingSafeEqual(key.hash, sha256(token))) return { problem: 'unknown API key' };
    if (key.revokedAt !== null) return { problem: 'API key revoked' };
    if (key.expiresAt !== null && key.expiresAt <= now) return { problem: 'API key expired' };
    return { keyId: key.keyId, role: key.role };
  }

  list(): ApiKeyInfo[] {
    return [...this.keys.values()]
      .map(({ hash: _hash, ...info }) => info)
      .sort((a, b) => a.createdAt - b.createdAt || a.keyId.localeCompare(b.keyId));
  }

  /** Whether any key that is neither revoked nor expired grants admin. */
  hasActiveAdmin(now = Date.now()): boolean {
    return [...this.keys.values()].some(
      (k) => k.role === 'admin' && k.revokedAt === null && (k.expiresAt === null || k.expiresAt > now),
    );
  }

  /** Creates a key; the returned key is the only time its secret exists outside the caller. */
  async create(
    input: { name: string; role: Role; expiresAt: number | null },
    by: string,
  ): Promise<{ key: string; info: ApiKeyInfo }> {
    const keyId = randomBytes(6).toString('hex');
    const key = `aul_${keyId}_${randomBytes(32).toString('base64url')}`;
    const data = checkFact('apiKeyCreated', { ...input, keyId, hash: sha256(key).toString('hex') });
    await this.write('apiKeyCreated', data, by);
    return { key, info: this.list().find((k) => k.keyId === keyId)! };
  }

  async revoke(keyId: string, by: string): Promise<ApiKeyInfo> {
    const key = this.keys.get(keyId);
    if (!key) throw new NotFoundError(`no API key ${keyId}`);
    if (key.revokedAt === null) await this.write('apiKeyRevoked', checkFact('apiKeyRevoked', { keyId }), by);
    return this.list().find((k) => k.keyId === keyId)!;
  }

  private write(type: keyof typeof API_KEY_FACTS, data: Record<string, unknown>, principal: string) {
    const next = this.writing.then(() => this.writeNow(type, data, principal));
    this.writing = next.catch(() => {});
    return next;
  }

  private async writeNow(
    type: keyof typeof API_KEY_FACTS,
    data: Record<string, unknown>,
    principal: string,
  ): Promise<void> {
    await this.refresh();
    const id = randomUUID();
    await this.events.append(
      API_KEYS_STREAM,
      [
        {
          id,
          type,
          data: data as never,
          metadata: envelope({ principal, schemaVersion: factVersion(type) }, id),
        },
      ],
      { expectedRevision: this.revision ?? 'noStream' },
    );
    await this.refresh();
  }
}
