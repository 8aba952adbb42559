/**
 * Per-series state kept as columns over dense series slots (0, 1, 2, …): one typed array per field,
 * `stride` values a slot, grown by doubling. Snapshots carry the used part as base64 (platform byte
 * order: little-endian wherever Node runs here), which is compact JSON and restores bit for bit.
 */

type Typed = Float64Array | Float32Array | Int32Array | Uint16Array | Uint8Array;
type TypedCtor<T extends Typed> = { new (length: number): T; BYTES_PER_ELEMENT: number };

/** A copy of `array` with room for at least `length` values (the old values kept, the rest zero). */
export function grown<T extends Typed>(array: T, length: number, Ctor: TypedCtor<T>): T {
  if (array.length >= length) return array;
  let size = Math.max(16, array.length);
  while (size < length) size *= 2;
  const next = new Ctor(size);
  next.set(array);
  return next;
}

export function toB64(array: Typed, length = array.length): string {
  return Buffer.from(array.buffer, array.byteOffset, length * array.BYTES_PER_ELEMENT).toString('base64');
}

/** Decodes base64 written by `toB64` into `target` from index 0; returns how many values it held. */
export function fromB64(text: string, target: Typed): number {
  const bytes = Buffer.from(text, 'base64');
  const per = target.BYTES_PER_ELEMENT;
  if (bytes.byteLength % per !== 0 || bytes.byteLength / per > target.length)
    throw new Error(`snapshot column: ${bytes.byteLength} bytes do not fit ${target.length} values`);
  new Uint8Array(target.buffer, target.byteOffset, bytes.byteLength).set(bytes);
  return bytes.byteLength / per;
}

/** The number of values base64 text written by `toB64` holds, for element size `per`. */
export function b64Length(text: string, per: number): number {
  return Buffer.from(text, 'base64').byteLength / per;
}
