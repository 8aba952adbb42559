import { mkdirSync } from 'node:fs';
import { type FileHandle, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
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
 * store returns. Records are length-prefixed JSON; each append is fsynced, so a batch in the spool
 * survives a crash of the process. A torn last record (a crash mid-append) is ignored on reading.
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
    const batches = await this.readAll();
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
    const header = Buffer.alloc(4);
    header.writeUInt32LE(body.length, 0);
    await this.handle.write(Buffer.concat([header, body]));
    await this.handle.datasync();
    this.count++;
    this.lastSeq = batch.seq;
    this.firstAt ??= batch.spooledAt;
  }

  async readAll(): Promise<SpooledBatch[]> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const out: SpooledBatch[] = [];
    let offset = 0;
    while (offset + 4 <= bytes.length) {
      const length = bytes.readUInt32LE(offset);
      if (offset + 4 + length > bytes.length) break; // torn tail
      out.push(JSON.parse(bytes.subarray(offset + 4, offset + 4 + length).toString('utf8')) as SpooledBatch);
      offset += 4 + length;
    }
    return out;
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
