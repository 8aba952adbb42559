import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { EncryptionKeyError, SealedDataError, seal, unseal } from '../stores/encryption.js';

/** A sealed line (DATA_ENCRYPTION_KEY set) starts with this; a metric name never does. */
const SEALED_LINE = '~';
const LINE_AAD = Buffer.from('series.registry');

export interface SeriesLimits {
  /** Distinct series the service takes at most, all metrics together. */
  readonly maxSeries: number;
  /** Distinct series one metric may have. */
  readonly maxSeriesPerMetric: number;
  /** A series not seen for this long no longer counts towards the limits (and is forgotten). */
  readonly idleMs: number;
}

export type Admission = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * The series the service has taken, shared by every agent, counted against a global and a per-metric
 * limit. The set survives restarts: each new series is appended to a file (no fsync: it survives a
 * crash of the process; a power loss may forget the newest few, which then count again when seen) and
 * the file is read back at start. Series idle for `idleMs` are freed, and the file is rewritten without
 * them once they are a tenth of it. Last-seen times live in memory: after a restart every known series
 * counts as seen at the restart.
 *
 * With a key (the series-registry subkey) each line is sealed on its own (AES-256-GCM, base64 after a
 * `~`), so appends stay appends; a torn sealed line does not authenticate and is skipped like a torn
 * plain one. A file of the other kind (plain with a key, sealed without) stops the start.
 *
 * Hand-written: no library keeps a bounded, persistent set with per-key idle expiry and two counts.
 */
export class SeriesRegistry {
  private readonly seen = new Map<string, { family: string; at: number }>();
  private readonly perFamily = new Map<string, number>();
  private written = 0;

  constructor(
    private readonly limits: SeriesLimits,
    /** Where the set is kept; null keeps it in memory only (tests, tools). */
    private readonly path: string | null,
    private readonly now: () => number = Date.now,
    /** The series-registry subkey (DATA_ENCRYPTION_KEY); null: lines in plain text. */
    private readonly key: Buffer | null = null,
  ) {}

  private line(family: string, id: string): string {
    const text = `${family}\t${id}`;
    return `${this.key ? SEALED_LINE + seal(this.key, Buffer.from(text, 'utf8'), LINE_AAD).toString('base64') : text}\n`;
  }

  /** A line's text: opened when sealed; null when it does not authenticate (a torn last line). */
  private read(line: string): string | null {
    const sealed = line.startsWith(SEALED_LINE);
    if (line === '' || sealed === (this.key !== null)) {
      if (!sealed) return line;
      try {
        return unseal(this.key!, Buffer.from(line.slice(1), 'base64'), LINE_AAD).toString('utf8');
      } catch (error) {
        if (error instanceof SealedDataError) return null;
        throw error;
      }
    }
    throw new EncryptionKeyError(
      sealed
        ? `the series registry ${this.path} is encrypted but DATA_ENCRYPTION_KEY is not set: start with the key it was written with`
        : `the series registry ${this.path} was written without DATA_ENCRYPTION_KEY (plain text) but the key is set: with the service stopped, run 'npm run store:encrypt' to encrypt it`,
    );
  }

  /** Reads the set an earlier process left. */
  open(): void {
    if (!this.path) return;
    mkdirSync(dirname(this.path), { recursive: true });
    let text = '';
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const at = this.now();
    let sealed = 0;
    let opened = 0;
    for (const raw of text.split('\n')) {
      if (raw.startsWith(SEALED_LINE)) sealed++;
      const line = this.read(raw);
      if (line === null) continue;
      if (raw.startsWith(SEALED_LINE)) opened++;
      const tab = line.indexOf('\t');
      if (tab <= 0) continue; // a torn last line (a crash mid-append) or an empty one
      const id = line.slice(tab + 1);
      if (!/^\d+$/.test(id) || this.seen.has(id)) continue;
      this.add(id, line.slice(0, tab), at);
    }
    if (sealed > 0 && opened === 0)
      throw new EncryptionKeyError(
        `DATA_ENCRYPTION_KEY does not open the series registry ${this.path}: it was written with another key`,
      );
    this.written = this.seen.size;
    this.compact();
  }

  /**
   * Rewrites a registry file written without a key with every line sealed (`npm run store:encrypt`);
   * answers the lines kept. The service must be stopped.
   */
  static encryptFile(path: string, key: Buffer): number {
    const plain = new SeriesRegistry(
      {
        maxSeries: Number.MAX_SAFE_INTEGER,
        maxSeriesPerMetric: Number.MAX_SAFE_INTEGER,
        idleMs: Number.POSITIVE_INFINITY,
      },
      path,
    );
    plain.open();
    const sealed = new SeriesRegistry(plain.limits, path, Date.now, key);
    const next = `${path}.encrypt`;
    writeFileSync(next, [...plain.seen].map(([id, e]) => sealed.line(e.family, id)).join(''));
    renameSync(next, path);
    return plain.seen.size;
  }

  get size(): number {
    return this.seen.size;
  }

  seriesOf(family: string): number {
    return this.perFamily.get(family) ?? 0;
  }

  /** Takes a series: one already known (and now seen again), or a new one under both limits. */
  admit(family: string, id: string): Admission {
    const at = this.now();
    const known = this.seen.get(id);
    if (known) {
      known.at = at;
      return { ok: true };
    }
    const inFamily = this.perFamily.get(family) ?? 0;
    if (inFamily >= this.limits.maxSeriesPerMetric)
      return {
        ok: false,
        reason: `metric '${family}' already has ${inFamily} series (the per-metric limit)`,
      };
    if (this.seen.size >= this.limits.maxSeries)
      return { ok: false, reason: `the service already has ${this.seen.size} series (the global limit)` };
    this.add(id, family, at);
    if (this.path) {
      appendFileSync(this.path, this.line(family, id));
      this.written++;
    }
    return { ok: true };
  }

  /**
   * A series recorded through a handle it was admitted with (the SDK, samplers) is seen again: it
   * counts (again) whatever the limits say now, since its samples are already taken.
   */
  touch(family: string, id: string): void {
    const known = this.seen.get(id);
    if (known) {
      known.at = this.now();
      return;
    }
    this.add(id, family, this.now());
    if (this.path) {
      appendFileSync(this.path, this.line(family, id));
      this.written++;
    }
  }

  /** Frees the series not seen for `idleMs`; returns their ids. */
  sweep(): string[] {
    const before = this.now() - this.limits.idleMs;
    const freed: string[] = [];
    for (const [id, entry] of this.seen) {
      if (entry.at >= before) continue;
      this.seen.delete(id);
      const left = (this.perFamily.get(entry.family) ?? 1) - 1;
      if (left > 0) this.perFamily.set(entry.family, left);
      else this.perFamily.delete(entry.family);
      freed.push(id);
    }
    if (freed.length) this.compact();
    return freed;
  }

  private add(id: string, family: string, at: number): void {
    this.seen.set(id, { family, at });
    this.perFamily.set(family, (this.perFamily.get(family) ?? 0) + 1);
  }

  /** Rewrites the file with the series kept, once the freed ones are a tenth of it. */
  private compact(): void {
    if (!this.path || this.written - this.seen.size <= this.written / 10) return;
    const next = `${this.path}.next`;
    writeFileSync(next, [...this.seen].map(([id, e]) => this.line(e.family, id)).join(''));
    renameSync(next, this.path);
    this.written = this.seen.size;
  }
}
