import { mkdirSync } from 'node:fs';
import { copyFile, type FileHandle, open, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { EncryptionKeyError, SealedDataError, seal, unseal } from '../stores/encryption.js';
import type { JsonValue, Metadata } from '../stores/event-store/port.js';

/** One batch waiting for the event store: the event exactly as it will be appended. */
export interface SpooledBatch {
  readonly seq: number;
  readonly eventId: string;
  readonly data: JsonValue;
  readonly metadata?: Metadata;
  readonly spooledAt: number;
}

/** What opening a spool found: the good records kept, and anything cut or set aside. */
export interface SpoolOpenReport {
  readonly batches: number;
  /** Bytes of a torn last record (a crash mid-append: never acknowledged), cut off. */
  readonly tornBytes: number;
  /** Damaged records (bad checksum or framing) between good ones: not replayable. */
  readonly damagedRecords: number;
  readonly damagedBytes: number;
  /** Where a copy of the file was kept for inspection before anything was cut, or null. */
  readonly quarantinedTo: string | null;
}

/**
 * Each record starts with this marker, then its length and CRC-32, then its JSON. 0xF5 never occurs in
 * UTF-8 text, so after a damaged record the next good one is found by searching for the marker.
 */
const MAGIC = Buffer.from([0xf5, 0xa7, 0x5f, 0x01]);
/**
 * A sealed record (DATA_ENCRYPTION_KEY set): the same framing, its body AES-256-GCM sealed (nonce,
 * ciphertext, tag; the marker as associated data). The CRC covers the sealed body.
 */
const SEALED_MAGIC = Buffer.from([0xf5, 0xa7, 0x5f, 0x02]);
/** What both markers start with: the search after damage looks for this, then checks the fourth byte. */
const MARKER_PREFIX = MAGIC.subarray(0, 3);
const HEADER = 12;
/** Spools written before the marker existed: length, CRC-32, JSON; read, never written. */
const LEGACY_HEADER = 8;
const SEARCH_CHUNK = 1 << 20;

type Scanned =
  | { readonly kind: 'record'; readonly batch: SpooledBatch; readonly start: number; readonly end: number }
  | {
      readonly kind: 'damaged';
      readonly start: number;
      readonly end: number;
      /** Framing and CRC intact, but the sealed body does not authenticate under the key. */
      readonly unauthenticated?: boolean;
    }
  | { readonly kind: 'torn'; readonly start: number; readonly end: number };

async function readAt(file: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
}

function parse(body: Buffer): SpooledBatch | null {
  try {
    const value = JSON.parse(body.toString('utf8')) as Partial<SpooledBatch>;
    return typeof value.seq === 'number' && typeof value.eventId === 'string' && 'data' in value
      ? (value as SpooledBatch)
      : null;
  } catch {
    return null;
  }
}

const isMarker = (bytes: Buffer) =>
  bytes.length >= 4 && (bytes.subarray(0, 4).equals(MAGIC) || bytes.subarray(0, 4).equals(SEALED_MAGIC));

/** The offset of the next record marker (plain or sealed) at or after `from`, or -1. */
async function nextMarker(file: FileHandle, from: number, size: number): Promise<number> {
  for (let at = from; at < size; at += SEARCH_CHUNK - MAGIC.length) {
    const chunk = await readAt(file, Math.min(SEARCH_CHUNK, size - at), at);
    for (
      let found = chunk.indexOf(MARKER_PREFIX);
      found !== -1;
      found = chunk.indexOf(MARKER_PREFIX, found + 1)
    ) {
      if (found + 4 > chunk.length) break;
      if (isMarker(chunk.subarray(found, found + 4))) return at + found;
    }
  }
  return -1;
}

/**
 * Reads a record's body: plain JSON without a key, sealed JSON with one. A record of the other kind is
 * an EncryptionKeyError (the spool was written with a key and read without, or the reverse): never
 * damage, never quarantined. A sealed body that does not authenticate is 'unauthenticated' damage.
 */
function decodeBody(
  sealed: boolean,
  body: Buffer,
  key: Buffer | null,
  path: string,
): SpooledBatch | 'unauthenticated' | null {
  if (sealed !== (key !== null))
    throw new EncryptionKeyError(
      sealed
        ? `the spool ${path} is encrypted but DATA_ENCRYPTION_KEY is not set: start with the key it was written with`
        : `the spool ${path} was written without DATA_ENCRYPTION_KEY (plain text) but the key is set: with the service stopped, run 'npm run store:encrypt' to encrypt it, or start without the key until it is replayed`,
    );
  if (!sealed) return parse(body);
  try {
    return parse(unseal(key!, body, SEALED_MAGIC));
  } catch (error) {
    if (error instanceof SealedDataError) return 'unauthenticated';
    throw error;
  }
}

/** Every record of a spool file in order, with damaged stretches and a torn tail named as such. */
async function* scan(
  file: FileHandle,
  size: number,
  key: Buffer | null,
  path: string,
): AsyncGenerator<Scanned> {
  const first = await readAt(file, MAGIC.length, 0);
  let offset = 0;
  if (size > 0 && !isMarker(first)) {
    // No marker where the first record starts: a spool of the older format only if no marker is
    // anywhere in it; otherwise the first record is damaged, and the good ones start at the next marker.
    const next = await nextMarker(file, 1, size);
    if (next === -1) {
      yield* scanLegacy(file, size, key, path);
      return;
    }
    yield { kind: 'damaged', start: 0, end: next };
    offset = next;
  }
  while (offset < size) {
    const header = await readAt(file, HEADER, offset);
    let batch: SpooledBatch | null = null;
    let unauthenticated = false;
    let end = offset;
    if (header.length === HEADER && isMarker(header)) {
      const length = header.readUInt32LE(4);
      end = offset + HEADER + length;
      if (end > size) {
        // Runs past the end: a torn append, unless a good record follows (then its length was damaged).
        const next = await nextMarker(file, offset + 1, size);
        if (next === -1) {
          yield { kind: 'torn', start: offset, end: size };
          return;
        }
        yield { kind: 'damaged', start: offset, end: next };
        offset = next;
        continue;
      }
      const body = await readAt(file, length, offset + HEADER);
      if (crc32(body) === header.readUInt32LE(8)) {
        const decoded = decodeBody(header.subarray(0, 4).equals(SEALED_MAGIC), body, key, path);
        if (decoded === 'unauthenticated') unauthenticated = true;
        else batch = decoded;
      }
    } else if (
      header.length < HEADER &&
      (MAGIC.subarray(0, header.length).equals(header.subarray(0, 4)) ||
        SEALED_MAGIC.subarray(0, header.length).equals(header.subarray(0, 4)))
    ) {
      yield { kind: 'torn', start: offset, end: size };
      return;
    }
    if (batch) {
      yield { kind: 'record', batch, start: offset, end };
      offset = end;
      continue;
    }
    if (unauthenticated) {
      // Its frame is whole: the next record starts right after it.
      yield { kind: 'damaged', start: offset, end, unauthenticated };
      offset = end;
      continue;
    }
    const next = await nextMarker(file, offset + 1, size);
    yield { kind: 'damaged', start: offset, end: next === -1 ? size : next };
    if (next === -1) return;
    offset = next;
  }
}

/** The older format has no marker to search for: reading stops at the first bad record. */
async function* scanLegacy(
  file: FileHandle,
  size: number,
  key: Buffer | null,
  path: string,
): AsyncGenerator<Scanned> {
  let offset = 0;
  while (offset < size) {
    const header = await readAt(file, LEGACY_HEADER, offset);
    const length = header.length === LEGACY_HEADER ? header.readUInt32LE(0) : -1;
    if (length < 0 || offset + LEGACY_HEADER + length > size) {
      // Past a good record this is a torn append; as the very first record it is damage.
      yield { kind: offset === 0 ? 'damaged' : 'torn', start: offset, end: size };
      return;
    }
    const body = await readAt(file, length, offset + LEGACY_HEADER);
    // Plain by definition: decodeBody only refuses it when a key is set.
    const batch =
      crc32(body) === header.readUInt32LE(4)
        ? (decodeBody(false, body, key, path) as SpooledBatch | null)
        : null;
    if (!batch) {
      yield { kind: 'damaged', start: offset, end: size };
      return;
    }
    const end = offset + LEGACY_HEADER + length;
    yield { kind: 'record', batch, start: offset, end };
    offset = end;
  }
}

function encode(batch: SpooledBatch, key: Buffer | null): Buffer {
  const json = Buffer.from(JSON.stringify(batch), 'utf8');
  const body = key ? seal(key, json, SEALED_MAGIC) : json;
  const header = Buffer.alloc(HEADER);
  (key ? SEALED_MAGIC : MAGIC).copy(header, 0);
  header.writeUInt32LE(body.length, 4);
  header.writeUInt32LE(crc32(body), 8);
  return Buffer.concat([header, body]);
}

/**
 * An append-only local file of batches that could not be delivered, replayed in order when the event
 * store returns. Each record is framed (marker, length, CRC-32) JSON; every append is fsynced before it
 * is acknowledged, so a spooled batch survives a crash of the process.
 *
 * Opening checks every record. A torn last record (a crash mid-append, never acknowledged) is cut off.
 * A damaged record between good ones is never dropped in silence: the whole file is first copied to
 * `<agent>.spool.damaged-<time>` for inspection, the spool is rewritten with the good records only (the
 * ones after the damage included), and the report says what was set aside.
 *
 * With a key (DATA_ENCRYPTION_KEY's spool subkey) every record body is sealed (AES-256-GCM, a random
 * nonce per record); a record whose seal does not authenticate is damage like a CRC failure. When no
 * record authenticates at all, the key is wrong: that is an EncryptionKeyError, and nothing is cut or
 * quarantined. A plain record read with a key, or a sealed one without, is an EncryptionKeyError too.
 */
export class Spool {
  private readonly path: string;
  private handle: FileHandle | null = null;
  private count = 0;
  private lastSeq: number | null = null;
  private firstAt: number | null = null;
  private sizeBytes = 0;
  private readonly metadataById = new Map<string, Metadata>();

  constructor(
    private readonly directory: string,
    private readonly agentId: string,
    private readonly now: () => number = Date.now,
    /** The spool subkey (DATA_ENCRYPTION_KEY); null: records are written in plain text. */
    private readonly key: Buffer | null = null,
  ) {
    mkdirSync(directory, { recursive: true });
    this.path = join(directory, `${agentId}.spool`);
  }

  /** Loads what an earlier process left, setting aside anything damaged (see the class comment). */
  async open(): Promise<SpoolOpenReport> {
    const size = await this.bytes();
    const good: { start: number; end: number }[] = [];
    let tornBytes = 0;
    let damagedRecords = 0;
    let damagedBytes = 0;
    let unauthenticated = 0;
    this.count = 0;
    this.lastSeq = null;
    this.firstAt = null;
    this.metadataById.clear();
    if (size > 0) {
      const file = await open(this.path, 'r');
      try {
        for await (const item of scan(file, size, this.key, this.path)) {
          if (item.kind === 'record') {
            good.push(item);
            this.note(item.batch);
          } else if (item.kind === 'torn') tornBytes += item.end - item.start;
          else {
            if (item.unauthenticated) unauthenticated++;
            damagedRecords++;
            damagedBytes += item.end - item.start;
          }
        }
      } finally {
        await file.close();
      }
    }
    if (unauthenticated > 0 && good.length === 0) {
      this.count = 0;
      this.lastSeq = null;
      this.firstAt = null;
      this.metadataById.clear();
      throw new EncryptionKeyError(
        `DATA_ENCRYPTION_KEY does not open the spool ${this.path}: none of its ${unauthenticated} record${unauthenticated === 1 ? '' : 's'} authenticates (it was written with another key); start with the key it was written with`,
      );
    }
    let quarantinedTo: string | null = null;
    const legacy = size > 0 && good.length > 0 && good[0]!.start === 0 && !(await this.startsWithMarker());
    if (damagedRecords > 0 || tornBytes > 0) {
      // Nothing is cut without a copy of the file as it was: a "torn" tail may also be a good last
      // record whose length was damaged.
      quarantinedTo = join(
        this.directory,
        `${this.agentId}.spool.${damagedRecords > 0 ? 'damaged' : 'torn'}-${this.now()}`,
      );
      await copyFile(this.path, quarantinedTo);
    }
    if (damagedRecords > 0 || legacy) await this.rewrite();
    else if (tornBytes > 0) await truncate(this.path, good.at(-1)?.end ?? 0);
    this.sizeBytes = await this.bytes();
    return { batches: this.count, tornBytes, damagedRecords, damagedBytes, quarantinedTo };
  }

  get size(): number {
    return this.count;
  }

  /** Bytes of good records in the file. */
  get byteSize(): number {
    return this.sizeBytes;
  }

  /** Seq of the newest spooled batch, or null when empty. */
  get newestSeq(): number | null {
    return this.lastSeq;
  }

  /** When the oldest waiting batch was spooled, or null when empty. */
  get oldestAt(): number | null {
    return this.firstAt;
  }

  /** The metadata of a spooled batch by its event id (how a retried request finds its answer). */
  metadataOf(eventId: string): Metadata | undefined {
    return this.metadataById.get(eventId);
  }

  /** Appends batches and fsyncs once: when this resolves, every one of them survives a crash. */
  async appendAll(batches: readonly SpooledBatch[]): Promise<void> {
    if (!batches.length) return;
    this.handle ??= await open(this.path, 'a');
    const bytes = Buffer.concat(batches.map((batch) => encode(batch, this.key)));
    await this.handle.write(bytes);
    await this.handle.datasync();
    this.sizeBytes += bytes.length;
    for (const batch of batches) this.note(batch);
  }

  /** The good records in order, read one at a time (the spool can be far larger than memory). */
  async *records(): AsyncGenerator<SpooledBatch> {
    const size = await this.bytes();
    if (size === 0) return;
    const file = await open(this.path, 'r');
    try {
      for await (const item of scan(file, size, this.key, this.path))
        if (item.kind === 'record') yield item.batch;
    } finally {
      await file.close();
    }
  }

  /** Empties the spool once every batch in it is in the event store. */
  async clear(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
    await rm(this.path, { force: true });
    this.sizeBytes = 0;
    this.count = 0;
    this.lastSeq = null;
    this.firstAt = null;
    this.metadataById.clear();
  }

  async bytes(): Promise<number> {
    try {
      return (await stat(this.path)).size;
    } catch {
      return 0;
    }
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
  }

  private note(batch: SpooledBatch): void {
    this.count++;
    this.lastSeq = batch.seq;
    this.firstAt ??= batch.spooledAt;
    if (batch.metadata) this.metadataById.set(batch.eventId, batch.metadata);
  }

  private async startsWithMarker(): Promise<boolean> {
    const file = await open(this.path, 'r');
    try {
      return isMarker(await readAt(file, MAGIC.length, 0));
    } finally {
      await file.close();
    }
  }

  /** Writes the good records (in the current format) to a new file, fsyncs it, and puts it in place. */
  private async rewrite(): Promise<void> {
    const next = `${this.path}.rewrite`;
    const source = await open(this.path, 'r');
    const target = await open(next, 'w');
    try {
      const size = await this.bytes();
      for await (const item of scan(source, size, this.key, this.path)) {
        if (item.kind === 'record') await target.write(encode(item.batch, this.key));
      }
      await target.datasync();
    } finally {
      await source.close();
      await target.close();
    }
    await rename(next, this.path);
  }
}
