import { z } from 'zod';

/** Finite numbers (zod 4 rejects NaN and ±Infinity for `z.number()`). */
export const numbers = z.array(z.number());
export const integers = z.array(z.number().int());
export const matrix = z.array(numbers);
/** A seed: a 32-bit unsigned integer (other integers are reduced modulo 2³²). */
export const seedSchema = z.number().int();
