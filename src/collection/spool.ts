import { mkdirSync } from 'node:fs';
import { type FileHandle, open, readFile, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { JsonValue } from '../stores/event-store/port.js';

/** One batch waiting for the event store: the event exactly as it will be appended. */
export interface SpooledBatch {
  readonly seq: number;
  readonly eventId: string;
  readonly data: JsonValue;
  readonly spooledAt: number;
}

/**
 * An append-only local file of batches that could not be delivered, replayed in order when the event
 * store returns. Records are length-prefixed, CRC-checked JSON; each append is fsynced, so a batch in
 * the spool survives a crash of the process. A torn or corrupt tail (a crash mid-append) is cut off
 * when the spool is opened, so later appends follow the last good record.
 */
export class Spool {
  private readonly path: string;
  private handle: FileHandle | null = null;
  private count = 0;
  private lastSeq: number | null = null;
  private firstAt: number | null = null;

  constructor(directory: string, agentId: string) {
    mkdirSync(directory, { recursive: true });
    this.path = join(directory, `${agentId}.spool`);
  }

  /** Loads what an earlier process left; returns the number of batches waiting. */
  async open(): Promise<number> {
    const { batches, validBytes, totalBytes } = await this.scan();
    if (validBytes < totalBytes) await truncate(this.path, validBytes);
    this.count = batches.length;
    this.lastSeq = batches.at(-1)?.seq ?? null;
    this.firstAt = batches[0]?.spooledAt ?? null;
    return this.count;
  }

  get size(): number {
    return this.count;
  }

  /** Seq of the newest spooled batch, or null when empty. */
  get newestSeq(): number | null {
    return this.lastSeq;
  }

  /** When the oldest waiting batch was spooled, or null when empty. */
  get oldestAt(): number | null {
    return this.firstAt;
  }

  async append(batch: SpooledBatch): Promise<void> {
    this.handle ??= await open(this.path, 'a');
    const body = Buffer.from(JSON.stringify(batch), 'utf8');
    const header = Buffer.alloc(8);
    header.writeUInt32LE(body.length, 0);
    header.writeUInt32LE(crc32(body), 4);
    await this.handle.write(Buffer.concat([header, body]));
    await this.handle.datasync();
    this.count++;
    this.lastSeq = batch.seq;
    this.firstAt ??= batch.spooledAt;
  }

  async readAll(): Promise<SpooledBatch[]> {
    return (await this.scan()).batches;
  }

  /** The good records, and where they end. Reading stops at the first torn or corrupt record. */
  private async scan(): Promise<{ batches: SpooledBatch[]; validBytes: number; totalBytes: number }> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { batches: [], validBytes: 0, totalBytes: 0 };
      throw error;
    }
    const batches: SpooledBatch[] = [];
    let offset = 0;
    while (offset + 8 <= bytes.length) {
      const length = bytes.readUInt32LE(offset);
      const end = offset + 8 + length;
      if (end > bytes.length) break;
      const body = bytes.subarray(offset + 8, end);
      if (crc32(body) !== bytes.readUInt32LE(offset + 4)) break;
      batches.push(JSON.parse(body.toString('utf8')) as SpooledBatch);
      offset = end;
    }
    return { batches, validBytes: offset, totalBytes: bytes.length };
  }

  /** Empties the spool once every batch in it is in the event store. */
  async clear(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
    await rm(this.path, { force: true });
    this.count = 0;
    this.lastSeq = null;
    this.firstAt = null;
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
}
