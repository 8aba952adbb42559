import type { LabelSource } from './points.js';

/*
 * The protobuf wire format, read by hand for the OTLP decoder (wire.ts): a cursor over the bytes that
 * reads varints, fixed-width numbers, lengths and strings without making an object.
 */

export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
const I32 = 5;
const TWO_32 = 4294967296;

/** How deep unknown groups may nest before a body is refused. */
const MAX_GROUP_DEPTH = 64;

/** A cursor over the bytes: the decoder's only state. */
export class Reader {
  pos = 0;
  /** The high 32 bits of the last `varint64` or `fixed64`. */
  hi = 0;
  /** A data point's attributes, as a range of the bytes (one object, reused for every point). */
  readonly key: { buf: Buffer; start: number; end: number };

  /** Where a data point's labels are read from when its series is new (set by the decoder, reused). */
  labels: LabelSource & { start: number; end: number } = { start: 0, end: 0, of: null, labels: () => ({}) };

  constructor(readonly buf: Buffer) {
    this.key = { buf, start: 0, end: 0 };
  }

  /** A varint's low 32 bits (unsigned), reading past the rest of it. */
  varint(end: number): number {
    const buf = this.buf;
    let value = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= end) throw new WireError(`truncated varint at byte ${this.pos}`);
      const byte = buf[this.pos++]!;
      if (shift < 32) value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value >>> 0;
      shift += 7;
      if (shift >= 70) throw new WireError(`varint longer than 10 bytes at byte ${this.pos}`);
    }
  }

  /** A varint's 64 bits: the low 32 returned, the high 32 in `hi`. */
  varint64(end: number): number {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; ; shift += 7) {
      if (this.pos >= end) throw new WireError(`truncated varint at byte ${this.pos}`);
      if (shift >= 70) throw new WireError(`varint longer than 10 bytes at byte ${this.pos}`);
      const byte = buf[this.pos++]!;
      const bits = byte & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else if (shift < 64) hi |= bits << (shift - 32);
      if (byte < 0x80) break;
    }
    this.hi = hi >>> 0;
    return lo >>> 0;
  }

  /** 8 bytes little-endian: the low 32 bits returned, the high 32 in `hi`. */
  fixed64(end: number): number {
    if (this.pos + 8 > end) throw new WireError(`truncated fixed64 at byte ${this.pos}`);
    const lo = this.buf.readUInt32LE(this.pos);
    this.hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    return lo;
  }

  double(end: number): number {
    if (this.pos + 8 > end) throw new WireError(`truncated double at byte ${this.pos}`);
    const value = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  /** A length prefix: the end of the bytes it announces (the cursor is at their start). */
  len(end: number): number {
    const at = this.pos;
    const length = this.varint64(end);
    if (this.hi !== 0 || length > 0x7fffffff)
      throw new WireError(`length at byte ${at} is larger than any message (over 2^31 bytes)`);
    const to = this.pos + length;
    if (to > end)
      throw new WireError(`length ${length} at byte ${this.pos} runs past the end of its message`);
    return to;
  }

  string(end: number): string {
    const to = this.len(end);
    const text = this.buf.toString('utf8', this.pos, to);
    this.pos = to;
    return text;
  }

  /** A tag: field number × 8 + wire type. */
  tag(end: number): number {
    const at = this.pos;
    const tag = this.varint64(end);
    if (this.hi !== 0) throw new WireError(`tag at byte ${at} is beyond 32 bits`);
    if (tag >>> 3 === 0) throw new WireError(`field number 0 at byte ${this.pos}`);
    return tag;
  }

  /** Skips an unknown field; groups nest at most MAX_GROUP_DEPTH deep (deeper is refused, not a stack overflow). */
  skip(wireType: number, end: number, field = 0, depth = 0): void {
    switch (wireType) {
      case VARINT:
        this.varint(end);
        return;
      case I64:
        if (this.pos + 8 > end) throw new WireError(`truncated fixed64 at byte ${this.pos}`);
        this.pos += 8;
        return;
      case LEN:
        this.pos = this.len(end);
        return;
      case I32:
        if (this.pos + 4 > end) throw new WireError(`truncated fixed32 at byte ${this.pos}`);
        this.pos += 4;
        return;
      case 3:
        // A group (deprecated): skipped up to its end tag.
        if (depth >= MAX_GROUP_DEPTH)
          throw new WireError(`groups nested more than ${MAX_GROUP_DEPTH} deep at byte ${this.pos}`);
        for (;;) {
          const tag = this.tag(end);
          if ((tag & 7) === 4) {
            if (tag >>> 3 !== field) throw new WireError(`unmatched end of group at byte ${this.pos}`);
            return;
          }
          this.skip(tag & 7, end, tag >>> 3, depth + 1);
        }
      default:
        throw new WireError(`invalid wire type ${wireType} at byte ${this.pos}`);
    }
  }

  /** Checks a known field's wire type. */
  expect(tag: number, wireType: number): void {
    if ((tag & 7) !== wireType)
      throw new WireError(
        `field ${tag >>> 3} has wire type ${tag & 7}, expected ${wireType}, at byte ${this.pos}`,
      );
  }
}

/** Unsigned 64 bits (lo, hi) as a decimal string. */
export const u64 = (lo: number, hi: number) =>
  hi === 0 ? String(lo) : ((BigInt(hi) << 32n) | BigInt(lo)).toString();
/** Signed 64 bits (two's complement) as a number, rounded as a decimal string of it would be. */
export const i64 = (lo: number, hi: number) => (hi | 0) * TWO_32 + lo;
/** Unsigned nanoseconds (lo, hi) as whole milliseconds, rounding down: exact, in doubles. */
export function nanosToMs(lo: number, hi: number): number {
  // 2^32 = 4294 × 10^6 + 967,296, so ns = hi × 4294 × 10^6 + (hi × 967,296 + lo), the second part < 2^53.
  const rest = hi * 967_296 + lo;
  return hi * 4294 + (rest - (rest % 1_000_000)) / 1_000_000;
}
