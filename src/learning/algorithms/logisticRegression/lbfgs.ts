/**
 * Limited-memory BFGS (Nocedal & Wright, algorithm 7.4) with a backtracking Armijo line search; enough
 * for the smooth, convex objectives here (the multinomial logistic loss).
 */
export interface LbfgsOptions {
  readonly maxIter: number;
  /** Stop when the largest |gradient| component is at most this. */
  readonly gradTol: number;
  readonly memory?: number;
}

export interface LbfgsResult {
  readonly x: Float64Array;
  readonly iterations: number;
  readonly converged: boolean;
}

/** `fg` returns f(x) and writes ∇f(x) into its second argument. */
export function minimizeLbfgs(
  fg: (x: Float64Array, grad: Float64Array) => number,
  x0: Float64Array,
  options: LbfgsOptions,
): LbfgsResult {
  const d = x0.length;
  const m = options.memory ?? 10;
  const x = Float64Array.from(x0);
  const g = new Float64Array(d);
  let f = fg(x, g);
  const sHist: Float64Array[] = [];
  const yHist: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(m);
  const dir = new Float64Array(d);
  const xNew = new Float64Array(d);
  const gNew = new Float64Array(d);
  const norm = (v: Float64Array) => v.reduce((acc, t) => Math.max(acc, Math.abs(t)), 0);
  let iterations = 0;
  while (iterations < options.maxIter) {
    if (norm(g) <= options.gradTol) return { x, iterations, converged: true };
    // Two-loop recursion: dir = −H·g.
    for (let i = 0; i < d; i++) dir[i] = -g[i]!;
    for (let h = sHist.length - 1; h >= 0; h--) {
      let a = 0;
      for (let i = 0; i < d; i++) a += sHist[h]![i]! * dir[i]!;
      a *= rho[h]!;
      alpha[h] = a;
      for (let i = 0; i < d; i++) dir[i]! -= a * yHist[h]![i]!;
    }
    if (sHist.length > 0) {
      const last = sHist.length - 1;
      let yy = 0;
      for (let i = 0; i < d; i++) yy += yHist[last]![i]! * yHist[last]![i]!;
      const gamma = 1 / (rho[last]! * yy);
      for (let i = 0; i < d; i++) dir[i]! *= gamma;
    } else {
      const scale = 1 / Math.max(norm(g), 1e-12);
      for (let i = 0; i < d; i++) dir[i]! *= scale;
    }
    for (let h = 0; h < sHist.length; h++) {
      let b = 0;
      for (let i = 0; i < d; i++) b += yHist[h]![i]! * dir[i]!;
      b *= rho[h]!;
      for (let i = 0; i < d; i++) dir[i]! += sHist[h]![i]! * (alpha[h]! - b);
    }
    let slope = 0;
    for (let i = 0; i < d; i++) slope += dir[i]! * g[i]!;
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      sHist.length = yHist.length = rho.length = 0;
      continue;
    }
    let t = 1;
    let fNew = f;
    let accepted = false;
    for (let tries = 0; tries < 50; tries++) {
      for (let i = 0; i < d; i++) xNew[i] = x[i]! + t * dir[i]!;
      fNew = fg(xNew, gNew);
      if (fNew <= f + 1e-4 * t * slope) {
        accepted = true;
        break;
      }
      t /= 2;
    }
    iterations++;
    if (!accepted) return { x, iterations, converged: false };
    const s = new Float64Array(d);
    const y = new Float64Array(d);
    let sy = 0;
    for (let i = 0; i < d; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
      sy += s[i]! * y[i]!;
    }
    x.set(xNew);
    g.set(gNew);
    const decrease = f - fNew;
    f = fNew;
    if (sy > 1e-12) {
      if (sHist.length === m) {
        sHist.shift();
        yHist.shift();
        rho.shift();
      }
      sHist.push(s);
      yHist.push(y);
      rho.push(1 / sy);
    }
    // scipy's factr-style stop: the objective no longer moves at machine precision.
    if (decrease <= Number.EPSILON * Math.max(Math.abs(f), 1)) return { x, iterations, converged: true };
  }
  return { x, iterations, converged: norm(g) <= options.gradTol };
}
