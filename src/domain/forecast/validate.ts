import type { ForecastOptions } from './method.js';

/** Checks a forecast's input: at least 3 finite values and a positive integer horizon (RangeError otherwise). */
export function validateInput(values: readonly number[], options: ForecastOptions): void {
  if (!Array.isArray(values) || values.length < 3)
    throw new RangeError(`a forecast needs at least 3 values (got ${values?.length ?? 0})`);
  for (let i = 0; i < values.length; i++)
    if (typeof values[i] !== 'number' || !Number.isFinite(values[i]))
      throw new RangeError(`value ${i} is not a finite number (${values[i]})`);
  if (!Number.isInteger(options.horizon) || options.horizon < 1)
    throw new RangeError(`the horizon must be a positive integer (got ${options.horizon})`);
}
