/**
 * The little linear algebra principal directions need, in float64 on plain arrays: Gram–Schmidt, a Jacobi
 * eigensolver for small symmetric matrices, a Cholesky solve, and the top principal components of a data set
 * by subspace iteration (so a 4096-wide activation never needs its 4096² covariance).
 */
import { gaussianArray, hash32 } from '../random.ts';

/** Keeps PCA's random start apart from other uses of the same seed. */
const PCA_STREAM = 0x70636120;

export function dot64(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/**
 * Orthonormalises `vs` in place, in order (modified Gram–Schmidt, two passes so the result is orthogonal to
 * rounding). A vector that lies in the span of the earlier ones becomes zero; returns how many did.
 */
export function orthonormalize(vs: Float64Array[]): number {
  let collapsed = 0;
  vs.forEach((v, j) => {
    const before = Math.sqrt(dot64(v, v));
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        const b = vs[i] as Float64Array;
        const c = dot64(v, b);
        for (let x = 0; x < v.length; x++) v[x] = (v[x] as number) - c * (b[x] as number);
      }
    }
    const n = Math.sqrt(dot64(v, v));
    if (n <= 1e-10 * before || n === 0) {
      v.fill(0);
      collapsed++;
    } else {
      for (let x = 0; x < v.length; x++) v[x] = (v[x] as number) / n;
    }
  });
  return collapsed;
}

/**
 * Eigenvalues (descending) and eigenvectors of a symmetric p×p matrix (row-major), by cyclic Jacobi
 * rotations: slow for large p, exact and simple for the p ≤ ~40 used here.
 */
export function symmetricEigen(matrix: Float64Array, p: number): { values: number[]; vectors: Float64Array[] } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(p * p);
  for (let i = 0; i < p; i++) v[i * p + i] = 1;
  const at = (i: number, j: number) => a[i * p + j] as number;
  let scale = 0;
  for (let i = 0; i < p * p; i++) scale += (a[i] as number) ** 2;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) off += at(i, j) ** 2;
    if (off <= 1e-30 * scale || off === 0) break;
    for (let i = 0; i < p; i++) {
      for (let j = i + 1; j < p; j++) {
        const aij = at(i, j);
        if (aij === 0) continue;
        // The rotation that zeroes a[i][j] (Golub & Van Loan's symmetric Schur decomposition).
        const theta = (at(j, j) - at(i, i)) / (2 * aij);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < p; k++) {
          const aki = at(k, i);
          const akj = at(k, j);
          a[k * p + i] = c * aki - s * akj;
          a[k * p + j] = s * aki + c * akj;
        }
        for (let k = 0; k < p; k++) {
          const aik = at(i, k);
          const ajk = at(j, k);
          a[i * p + k] = c * aik - s * ajk;
          a[j * p + k] = s * aik + c * ajk;
        }
        for (let k = 0; k < p; k++) {
          const vki = v[k * p + i] as number;
          const vkj = v[k * p + j] as number;
          v[k * p + i] = c * vki - s * vkj;
          v[k * p + j] = s * vki + c * vkj;
        }
      }
    }
  }
  const order = Array.from({ length: p }, (_, i) => i).sort((x, y) => at(y, y) - at(x, x));
  return {
    values: order.map((i) => at(i, i)),
    vectors: order.map((i) => Float64Array.from({ length: p }, (_, k) => v[k * p + i] as number)),
  };
}

/** The Cholesky factor L (lower, row-major) of a symmetric positive definite k×k matrix: A = L·Lᵀ. */
export function cholesky(matrix: Float64Array, k: number): Float64Array {
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = matrix[i * k + j] as number;
      for (let m = 0; m < j; m++) s -= (l[i * k + m] as number) * (l[j * k + m] as number);
      l[i * k + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / (l[j * k + j] as number);
    }
  }
  return l;
}

/** Solves L·Lᵀ·x = b given the Cholesky factor L of a k×k matrix. */
export function choleskySolve(l: Float64Array, k: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = b[i] as number;
    for (let m = 0; m < i; m++) s -= (l[i * k + m] as number) * (y[m] as number);
    y[i] = s / (l[i * k + i] as number);
  }
  const x = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    let s = y[i] as number;
    for (let m = i + 1; m < k; m++) s -= (l[m * k + i] as number) * (x[m] as number);
    x[i] = s / (l[i * k + i] as number);
  }
  return x;
}

/** Solves A·x = b for a symmetric positive definite k×k A (row-major). */
export function solveSpd(matrix: Float64Array, k: number, b: ArrayLike<number>): Float64Array {
  return choleskySolve(cholesky(matrix, k), k, b);
}

export interface PcaResult {
  /** Unit principal axes in feature space, by decreasing variance; each signed so its largest entry is positive. */
  components: Float64Array[];
  /** The variance of the data along each component. */
  variances: number[];
  /** The data's total variance (the sum over all axes). */
  totalVariance: number;
  /** Each row's coordinates on the components: scores[j][i] for component j, row i. */
  scores: Float64Array[];
}

/**
 * The top `k` principal components of `rows` (N rows of m features, centred here) by subspace iteration with
 * a few extra vectors and a Rayleigh–Ritz step each round, until the top eigenvalues stop moving. Seeded
 * start; deterministic.
 */
export function principalComponents(rows: readonly ArrayLike<number>[], k: number, seed: number, maxIterations = 300): PcaResult {
  const n = rows.length;
  const m = rows[0]?.length ?? 0;
  const mean = new Float64Array(m);
  for (const r of rows) for (let x = 0; x < m; x++) mean[x] = (mean[x] as number) + (r[x] as number) / n;
  const data = rows.map((r) => Float64Array.from({ length: m }, (_, x) => (r[x] as number) - (mean[x] as number)));
  let total = 0;
  for (const r of data) total += dot64(r, r);
  const p = Math.min(k + 8, m, n);

  // X·V: one column of length N per vector of V.
  const project = (vs: Float64Array[]) => vs.map((v) => Float64Array.from(data, (r) => dot64(r, v)));
  // Xᵀ·W: back to feature space.
  const back = (ws: Float64Array[]) =>
    ws.map((w) => {
      const v = new Float64Array(m);
      data.forEach((r, i) => {
        const c = w[i] as number;
        if (c !== 0) for (let x = 0; x < m; x++) v[x] = (v[x] as number) + c * (r[x] as number);
      });
      return v;
    });
  const combine = (vs: Float64Array[], coeffs: Float64Array[]) =>
    coeffs.map((c) => {
      const out = new Float64Array(vs[0]?.length ?? 0);
      vs.forEach((v, i) => {
        const ci = c[i] as number;
        for (let x = 0; x < out.length; x++) out[x] = (out[x] as number) + ci * (v[x] as number);
      });
      return out;
    });

  let vs = Array.from({ length: p }, (_, j) => Float64Array.from(gaussianArray(m, hash32(seed, PCA_STREAM, j))));
  orthonormalize(vs);
  let values: number[] = [];
  let ws: Float64Array[] = [];
  let previous: number[] | undefined;
  for (let it = 0; it < maxIterations; it++) {
    const w0 = project(vs);
    const s = new Float64Array(p * p);
    for (let i = 0; i < p; i++) for (let j = i; j < p; j++) s[i * p + j] = s[j * p + i] = dot64(w0[i] as Float64Array, w0[j] as Float64Array);
    const eig = symmetricEigen(s, p);
    values = eig.values;
    vs = combine(vs, eig.vectors);
    ws = combine(w0, eig.vectors);
    const top = values[0] ?? 0;
    const before = previous;
    if (before !== undefined && values.slice(0, k).every((v, j) => Math.abs(v - (before[j] as number)) <= 1e-13 * top)) break;
    previous = values;
    vs = back(ws);
    orthonormalize(vs);
  }
  const components = vs.slice(0, k);
  const scores = ws.slice(0, k);
  components.forEach((c, j) => {
    let big = 0;
    for (let x = 0; x < c.length; x++) if (Math.abs(c[x] as number) > Math.abs(c[big] as number)) big = x;
    if ((c[big] as number) < 0) {
      for (let x = 0; x < c.length; x++) c[x] = -(c[x] as number);
      const w = scores[j] as Float64Array;
      for (let i = 0; i < w.length; i++) w[i] = -(w[i] as number);
    }
  });
  const denom = Math.max(1, n - 1);
  return { components, variances: values.slice(0, k).map((v) => Math.max(0, v) / denom), totalVariance: total / denom, scores };
}
