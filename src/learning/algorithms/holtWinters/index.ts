import type { Algorithm } from '../../algorithm.js';
import { holtWintersEts } from './ets.js';

export const holtWinters: Algorithm = {
  name: 'holtWinters',
  tasks: ['regression'],
  defaultImplementation: 'ets',
  implementations: [holtWintersEts],
};
