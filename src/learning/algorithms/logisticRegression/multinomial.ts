import { minimizeLbfgs } from './lbfgs.js';

/**
 * Multinomial (softmax) L2-penalised logistic regression by L-BFGS, scikit-learn's default for more than
 * two classes with the lbfgs solver: ½Σₖ‖wₖ‖² + C·Σᵢ −log softmax(zᵢ)_{yᵢ}, intercepts not penalised.
 */
export function fitMultinomial(
  x: Float64Array,
  n: number,
  p: number,
  y: Int32Array,
  k: number,
  options: { C: number; maxIter: number; tol: number },
): { coef: Float64Array[]; intercept: Float64Array; iterations: number; converged: boolean } {
  const { C } = options;
  const width = p + 1; // per class: p weights then the intercept
  const z = new Float64Array(k);
  const fg = (theta: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let f = 0;
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < p; j++) {
        const w = theta[c * width + j]!;
        f += 0.5 * w * w;
        grad[c * width + j] = w;
      }
    }
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const base = i * p;
      let max = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < k; c++) {
        const off = c * width;
        let s = theta[off + p]!;
        for (let j = 0; j < p; j++) s += theta[off + j]! * x[base + j]!;
        z[c] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp(z[c]! - max);
      const lse = max + Math.log(sum);
      const yi = y[i]!;
      loss += lse - z[yi]!;
      for (let c = 0; c < k; c++) {
        const r = C * (Math.exp(z[c]! - lse) - (c === yi ? 1 : 0));
        const off = c * width;
        for (let j = 0; j < p; j++) grad[off + j]! += r * x[base + j]!;
        grad[off + p]! += r;
      }
    }
    return f + C * loss;
  };
  const result = minimizeLbfgs(fg, new Float64Array(k * width), {
    maxIter: options.maxIter,
    gradTol: options.tol * C * n,
  });
  const coef: Float64Array[] = [];
  const intercept = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    coef.push(result.x.slice(c * width, c * width + p));
    intercept[c] = result.x[c * width + p]!;
  }
  return { coef, intercept, iterations: result.iterations, converged: result.converged };
}
