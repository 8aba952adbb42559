import type { Algorithm } from '../../algorithm.js';
import { logisticMljs } from './mljs.js';
import { logisticNewton } from './newtonImplementation.js';

export const logisticRegression: Algorithm = {
  name: 'logisticRegression',
  tasks: ['classification'],
  defaultImplementation: 'newton',
  implementations: [logisticNewton, logisticMljs],
};
