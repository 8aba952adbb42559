import { mkdirSync } from 'node:fs';
import { type FileHandle, open, rm, stat, truncate } from 'node:fs/promises';
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
  private sizeBytes = 0;

  constructor(directory: string, agentId: string) {
    mkdirSync(directory, { recursive: true });
    this.path = join(directory, `${agentId}.spool`);
  }

  /** Loads what an earlier process left; returns the number of batches waiting. */
  async open(): Promise<number> {
    const { batches, validBytes, totalBytes } = await this.scan();
    if (validBytes < totalBytes) await truncate(this.path, validBytes);
    this.sizeBytes = validBytes;
    this.count = batches.length;
    this.lastSeq = batches.at(-1)?.seq ?? null;
    this.firstAt = batches[0]?.spooledAt ?? null;
    return this.count;
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

  async append(batch: SpooledBatch): Promise<void> {
    this.handle ??= await open(this.path, 'a');
    const body = Buffer.from(JSON.stringify(batch), 'utf8');
    const header = Buffer.alloc(8);
    header.writeUInt32LE(body.length, 0);
    header.writeUInt32LE(crc32(body), 4);
    await this.handle.write(Buffer.concat([header, body]));
    await this.handle.datasync();
    this.sizeBytes += header.length + body.length;
    this.count++;
    this.lastSeq = batch.seq;
    this.firstAt ??= batch.spooledAt;
  }

  async readAll(): Promise<SpooledBatch[]> {
    const out: SpooledBatch[] = [];
    for await (const batch of this.records()) out.push(batch);
    return out;
  }

  /** The good records in order, read one at a time (the spool can be far larger than memory). */
  async *records(): AsyncGenerator<SpooledBatch> {
    for await (const { batch } of this.walk()) yield batch;
  }

  /** Where the good records end: reading stops at the first torn or corrupt record. */
  private async scan(): Promise<{ batches: SpooledBatch[]; validBytes: number; totalBytes: number }> {
    const batches: SpooledBatch[] = [];
    let validBytes = 0;
    for await (const { batch, end } of this.walk()) {
      batches.push(batch);
      validBytes = end;
    }
    return { batches, validBytes, totalBytes: await this.bytes() };
  }

  private async *walk(): AsyncGenerator<{ batch: SpooledBatch; end: number }> {
    let file: FileHandle;
    try {
      file = await open(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      const header = Buffer.alloc(8);
      let offset = 0;
      for (;;) {
        const { bytesRead } = await file.read(header, 0, 8, offset);
        if (bytesRead < 8) return;
        const length = header.readUInt32LE(0);
        const body = Buffer.alloc(length);
        const got = (await file.read(body, 0, length, offset + 8)).bytesRead;
        if (got < length || crc32(body) !== header.readUInt32LE(4)) return;
        offset += 8 + length;
        yield { batch: JSON.parse(body.toString('utf8')) as SpooledBatch, end: offset };
      }
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
