// Types for the parts of two untyped mljs packages used by the learning algorithms.

declare module 'ml-logistic-regression' {
  import type { Matrix } from 'ml-matrix';

  interface TwoClassClassifier {
    weights: Matrix;
  }

  export default class LogisticRegression {
    constructor(options?: { numSteps?: number; learningRate?: number });
    classifiers: TwoClassClassifier[];
    numberClasses: number;
    /** `y`: a column vector of class indices 0…k−1. */
    train(x: Matrix, y: Matrix): void;
    predict(x: Matrix): number[];
  }
}

declare module 'ml-cart' {
  import type { Matrix } from 'ml-matrix';

  export interface CartOptions {
    gainFunction?: 'gini' | 'regression';
    splitFunction?: 'mean';
    minNumSamples?: number;
    maxDepth?: number;
    gainThreshold?: number;
  }

  interface CartNode {
    classify(row: number[]): Matrix | number;
  }

  export interface CartModel {
    name: 'DTClassifier' | 'DTRegression';
    options: object;
    root: object;
  }

  export class DecisionTreeClassifier {
    constructor(options?: CartOptions);
    root: CartNode;
    /** `y`: class indices 0…k−1. */
    train(x: number[][], y: number[]): void;
    predict(x: number[][]): number[];
    toJSON(): CartModel;
    static load(model: CartModel): DecisionTreeClassifier;
  }

  export class DecisionTreeRegression {
    constructor(options?: CartOptions);
    root: CartNode;
    train(x: number[][], y: number[]): void;
    predict(x: number[][]): number[];
    toJSON(): CartModel;
    static load(model: CartModel): DecisionTreeRegression;
  }
}
