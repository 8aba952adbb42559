import type { Algorithm } from '../../algorithm.js';
import { linearMljs } from './mljs.js';

export const linearRegression: Algorithm = {
  name: 'linearRegression',
  tasks: ['regression'],
  defaultImplementation: 'mljs',
  implementations: [linearMljs],
};
