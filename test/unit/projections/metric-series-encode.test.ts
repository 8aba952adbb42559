import { describe, expect, it } from 'vitest';
import { defineSeries } from '../../../src/domain/metrics/identity.js';
import { decimalScale, encodeSamples, FLOAT_SCALE } from '../../../src/projections/metric-series/encode.js';

/** Reads the scale and int/float columns back out of the Native block (column order as written). */
function decode(block: Uint8Array[], rows: number) {
  const all = Buffer.concat(block);
  const find = (name: string, type: string) => {
    const marker = Buffer.concat([
      Buffer.from([name.length]),
      Buffer.from(name),
      Buffer.from([type.length]),
      Buffer.from(type),
    ]);
    return all.indexOf(marker) + marker.length;
  };
  const scaleAt = find('scale', 'UInt8');
  const intAt = find('int_value', 'Int64');
  const floatAt = find('float_value', 'Float64');
  return Array.from({ length: rows }, (_, i) => {
    const scale = all.readUInt8(scaleAt + i);
    return scale === FLOAT_SCALE
      ? all.readDoubleLE(floatAt + 8 * i)
      : Number(all.readBigInt64LE(intAt + 8 * i)) / 10 ** scale;
  });
}

describe('sample encoding', () => {
  it('finds the fewest exact decimals', () => {
    expect([
      decimalScale(12),
      decimalScale(12.5),
      decimalScale(0.01),
      decimalScale(0.1 + 0.2),
      decimalScale(2 ** 60),
    ]).toEqual([0, 1, 2, FLOAT_SCALE, FLOAT_SCALE]);
  });

  it('never overflows when a later sample raises the scale of a series with a large earlier value', () => {
    const def = defineSeries({ name: 'x', labels: {}, kind: 'gauge' });
    const values = [646000303547334.1, 0.000001, 12.25];
    const batch = {
      agentId: 'a',
      seq: 0,
      series: [def],
      seriesIndex: Uint32Array.from([0, 0, 0]),
      timestamps: Float64Array.from([1, 2, 3]),
      values: Float64Array.from(values),
    };
    const { rows, block } = encodeSamples([{ batch, position: 1n }]);
    expect(decode(block, rows)).toEqual(values);
  });

  it('stores decimals of one series on one scale, exactly', () => {
    const def = defineSeries({ name: 'y', labels: {}, kind: 'gauge' });
    const values = [1.5, 2.25, -3.125, 100, 0];
    const batch = {
      agentId: 'a',
      seq: 0,
      series: [def],
      seriesIndex: new Uint32Array(values.length),
      timestamps: Float64Array.from(values.map((_, i) => i)),
      values: Float64Array.from(values),
    };
    const { rows, block } = encodeSamples([{ batch, position: 1n }]);
    expect(decode(block, rows)).toEqual(values);
  });
});
