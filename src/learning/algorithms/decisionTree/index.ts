import type { Algorithm } from '../../algorithm.js';
import { treeMljs } from './mljs.js';
import { treePresorted } from './presorted.js';

export const decisionTree: Algorithm = {
  name: 'decisionTree',
  tasks: ['classification', 'regression'],
  defaultImplementation: 'presorted',
  implementations: [treePresorted, treeMljs],
};
