import type { Algorithm } from '../../algorithm.js';
import { forestMljs } from './mljs.js';
import { forestPresorted } from './presorted.js';

export const randomForest: Algorithm = {
  name: 'randomForest',
  tasks: ['classification', 'regression'],
  defaultImplementation: 'presorted',
  implementations: [forestPresorted, forestMljs],
};
