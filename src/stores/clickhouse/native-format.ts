/**
 * Writer for ClickHouse's Native format: one block of fixed-width columns, each column's values
 * contiguous in little-endian order. Written by hand because no JS library writes Native, and the
 * client's text formats cap inserts at under a million rows a second while a Native block is a few
 * memory copies (see the ingest benchmark).
 *
 * Layout (uncompressed, as HTTP and file() read it): VarUInt columns, VarUInt rows, then per column
 * String name, String type, values.
 */
export interface NativeColumn {
  readonly name: string;
  readonly type: string;
  /** Exactly rows × width bytes, little-endian. */
  readonly data: Uint8Array;
}

function varUInt(value: number, out: number[]): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function string(text: string, out: number[]): void {
  const bytes = Buffer.from(text, 'utf8');
  varUInt(bytes.length, out);
  for (const b of bytes) out.push(b);
}

/** The block as a list of byte chunks (header pieces and the columns' own memory, uncopied). */
export function encodeNativeChunks(rows: number, columns: readonly NativeColumn[]): Uint8Array[] {
  const header: number[] = [];
  varUInt(columns.length, header);
  varUInt(rows, header);
  const parts: Uint8Array[] = [];
  let first = true;
  for (const column of columns) {
    const head: number[] = first ? header : [];
    first = false;
    string(column.name, head);
    string(column.type, head);
    parts.push(Uint8Array.from(head), column.data);
  }
  return parts;
}

/** Bytes of a typed array, as they are in memory (little-endian on every platform Node runs on here). */
export function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

const TWO_32 = 2 ** 32;

/**
 * Writes an integer-valued double (|x| < 2^53) as a little-endian 64-bit two's-complement integer
 * into `words` at pair `i`, without going through BigInt.
 */
export function setInt64(words: Uint32Array, i: number, x: number): void {
  // ToUint32 takes an integer modulo 2^32, which is the low word in two's complement for |x| < 2^53.
  words[2 * i] = x >>> 0;
  words[2 * i + 1] = Math.floor(x / TWO_32) >>> 0;
}

/** Writes a UInt64 given as a decimal string or bigint into `words` at pair `i`. */
export function setUInt64(words: Uint32Array, i: number, value: bigint): void {
  words[2 * i] = Number(value & 0xffffffffn);
  words[2 * i + 1] = Number(value >> 32n);
}
