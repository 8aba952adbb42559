/**
 * Solves A·x = b in place for a small symmetric positive-definite A (k × k, row-major) by Cholesky.
 * A is overwritten by its factor and b by the solution. Returns false if A is not positive definite.
 */
export function choleskySolveInPlace(a: Float64Array, b: Float64Array, k: number): boolean {
  for (let j = 0; j < k; j++) {
    let d = a[j * k + j]!;
    for (let m = 0; m < j; m++) d -= a[j * k + m]! * a[j * k + m]!;
    if (!(d > 0)) return false;
    const l = Math.sqrt(d);
    a[j * k + j] = l;
    for (let i = j + 1; i < k; i++) {
      let s = a[i * k + j]!;
      for (let m = 0; m < j; m++) s -= a[i * k + m]! * a[j * k + m]!;
      a[i * k + j] = s / l;
    }
  }
  for (let i = 0; i < k; i++) {
    let s = b[i]!;
    for (let m = 0; m < i; m++) s -= a[i * k + m]! * b[m]!;
    b[i] = s / a[i * k + i]!;
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let m = i + 1; m < k; m++) s -= a[m * k + i]! * b[m]!;
    b[i] = s / a[i * k + i]!;
  }
  return true;
}
