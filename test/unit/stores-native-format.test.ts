import { describe, expect, it } from 'vitest';
import {
  bytesOf,
  encodeNativeChunks,
  setInt64,
  setUInt64,
} from '../../src/stores/clickhouse/native-format.js';

describe('ClickHouse Native block writer', () => {
  it('writes the bytes ClickHouse itself writes for the same block', () => {
    // SELECT toUInt64(1) AS a, toDateTime64(1.5, 3, 'UTC') AS ts, toUInt8(3) AS u, toInt64(-2) AS i
    // FROM numbers(2) FORMAT Native, as produced by ClickHouse 26.7 (chDB).
    const expected =
      '040201610655496e74363401000000000000000100000000000000027473144461746554696d65363428332c20275554432729dc05000000000000dc0500000000000001750555496e74380303016905496e743634fefffffffffffffffeffffffffffffff';
    const a = new Uint32Array(4);
    setUInt64(a, 0, 1n);
    setUInt64(a, 1, 1n);
    const ts = new Uint32Array(4);
    setInt64(ts, 0, 1500);
    setInt64(ts, 1, 1500);
    const i = new Uint32Array(4);
    setInt64(i, 0, -2);
    setInt64(i, 1, -2);
    const block = Buffer.concat(
      encodeNativeChunks(2, [
        { name: 'a', type: 'UInt64', data: bytesOf(a) },
        { name: 'ts', type: "DateTime64(3, 'UTC')", data: bytesOf(ts) },
        { name: 'u', type: 'UInt8', data: Uint8Array.from([3, 3]) },
        { name: 'i', type: 'Int64', data: bytesOf(i) },
      ]),
    );
    expect(block.toString('hex')).toBe(expected);
  });

  it('splits 64-bit integers exactly at the edges of the safe range', () => {
    const words = new Uint32Array(6);
    setInt64(words, 0, 2 ** 53 - 1);
    setInt64(words, 1, -(2 ** 53) + 1);
    setUInt64(words, 2, 18_446_744_073_709_551_615n);
    const view = new BigInt64Array(words.buffer);
    expect(view[0]).toBe(2n ** 53n - 1n);
    expect(view[1]).toBe(-(2n ** 53n) + 1n);
    expect(new BigUint64Array(words.buffer)[2]).toBe(18_446_744_073_709_551_615n);
  });
});
