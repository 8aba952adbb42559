import type { Algorithm } from '../../algorithm.js';
import { kMeansMljs } from './mljs.js';

export const kMeans: Algorithm = {
  name: 'kMeans',
  tasks: ['clustering'],
  defaultImplementation: 'mljs',
  implementations: [kMeansMljs],
};
