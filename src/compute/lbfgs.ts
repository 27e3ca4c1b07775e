/**
 * Limited-memory BFGS with a strong-Wolfe line search (Nocedal & Wright, Algorithms 7.4, 3.5
 * and 3.6). Float64 throughout; the objective may compute in float32 (ORT), so the stopping
 * tests tolerate a loss that stops decreasing at rounding level.
 */

/** Objective: returns f(x) and writes ∇f(x) into grad. */
export type Objective = (x: Float64Array, grad: Float64Array) => Promise<number>;

export interface LbfgsOptions {
  readonly maxIter: number;
  /** Stop when max|∇f| < gtol. */
  readonly gtol: number;
  /** Stop when (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) < ftol. */
  readonly ftol: number;
  readonly history?: number;
}

export interface LbfgsResult {
  readonly x: Float64Array;
  readonly f: number;
  readonly iterations: number;
  readonly evaluations: number;
  readonly converged: boolean;
  readonly reason: 'gradient' | 'loss-change' | 'max-iterations' | 'line-search';
}

const C1 = 1e-4;
const C2 = 0.9;
const MAX_LS = 25;

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (v > m) m = v;
  }
  return m;
}

interface Point {
  readonly a: number;
  readonly x: Float64Array;
  readonly f: number;
  readonly g: Float64Array;
  readonly dphi: number;
}

/** Minimise `fg` from x0. */
export async function minimizeLbfgs(fg: Objective, x0: Float64Array, opts: LbfgsOptions): Promise<LbfgsResult> {
  const nVar = x0.length;
  const m = opts.history ?? 10;
  let evaluations = 0;
  const evalAt = async (x: Float64Array): Promise<{ f: number; g: Float64Array }> => {
    const g = new Float64Array(nVar);
    const f = await fg(x, g);
    evaluations++;
    return { f, g };
  };

  let x: Float64Array = Float64Array.from(x0);
  let { f, g } = await evalAt(x);
  if (!Number.isFinite(f)) return { x, f, iterations: 0, evaluations, converged: false, reason: 'line-search' };
  if (maxAbs(g) < opts.gtol) return { x, f, iterations: 0, evaluations, converged: true, reason: 'gradient' };

  const sList: Float64Array[] = [];
  const yList: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(m);
  const dir = new Float64Array(nVar);

  for (let iter = 1; iter <= opts.maxIter; iter++) {
    // Two-loop recursion: dir = −H·g.
    for (let i = 0; i < nVar; i++) dir[i] = -g[i]!;
    for (let j = sList.length - 1; j >= 0; j--) {
      const a = rho[j]! * dot(sList[j]!, dir);
      alpha[j] = a;
      const y = yList[j]!;
      for (let i = 0; i < nVar; i++) dir[i] = dir[i]! - a * y[i]!;
    }
    if (sList.length > 0) {
      const sl = sList[sList.length - 1]!;
      const yl = yList[yList.length - 1]!;
      const gamma = dot(sl, yl) / dot(yl, yl);
      for (let i = 0; i < nVar; i++) dir[i] = dir[i]! * gamma;
    }
    for (let j = 0; j < sList.length; j++) {
      const b = rho[j]! * dot(yList[j]!, dir);
      const s = sList[j]!;
      const c = alpha[j]! - b;
      for (let i = 0; i < nVar; i++) dir[i] = dir[i]! + c * s[i]!;
    }
    let dphi0 = dot(g, dir);
    if (!(dphi0 < 0)) {
      // Not a descent direction (curvature pairs gone stale): restart from steepest descent.
      sList.length = 0;
      yList.length = 0;
      rho.length = 0;
      for (let i = 0; i < nVar; i++) dir[i] = -g[i]!;
      dphi0 = dot(g, dir);
    }
    // Without curvature pairs the scale of a good step is unknown; 1/‖g‖ (a unit-length move) is
    // the usual guess, and the bracketing phase below grows it quickly if it is short.
    const a0 = sList.length === 0 ? 1 / Math.sqrt(-dphi0) : 1;
    const found = await lineSearch(evalAt, x, f, dphi0, dir, a0);
    if (found === undefined) {
      const reason = maxAbs(g) < opts.gtol * 10 ? 'loss-change' : 'line-search';
      return { x, f, iterations: iter, evaluations, converged: reason === 'loss-change', reason };
    }
    const s = new Float64Array(nVar);
    const y = new Float64Array(nVar);
    for (let i = 0; i < nVar; i++) {
      s[i] = found.x[i]! - x[i]!;
      y[i] = found.g[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-12 * dot(y, y)) {
      if (sList.length === m) {
        sList.shift();
        yList.shift();
        rho.shift();
      }
      sList.push(s);
      yList.push(y);
      rho.push(1 / sy);
    }
    const fPrev = f;
    x = found.x;
    f = found.f;
    g = found.g;
    if (maxAbs(g) < opts.gtol) return { x, f, iterations: iter, evaluations, converged: true, reason: 'gradient' };
    if ((fPrev - f) / Math.max(Math.abs(fPrev), Math.abs(f), 1) < opts.ftol) {
      return { x, f, iterations: iter, evaluations, converged: true, reason: 'loss-change' };
    }
  }
  return { x, f, iterations: opts.maxIter, evaluations, converged: false, reason: 'max-iterations' };
}

/** Cubic-interpolated minimiser of φ on [lo, hi] from two points, safeguarded to the middle 80 %. */
function interpolate(lo: Point, hi: Point): number {
  const d1 = lo.dphi + hi.dphi - (3 * (lo.f - hi.f)) / (lo.a - hi.a);
  const disc = d1 * d1 - lo.dphi * hi.dphi;
  let a = NaN;
  if (disc >= 0) {
    const d2 = Math.sign(hi.a - lo.a) * Math.sqrt(disc);
    a = hi.a - (hi.a - lo.a) * ((hi.dphi + d2 - d1) / (hi.dphi - lo.dphi + 2 * d2));
  }
  const left = Math.min(lo.a, hi.a);
  const right = Math.max(lo.a, hi.a);
  const margin = 0.1 * (right - left);
  if (!Number.isFinite(a) || a < left + margin || a > right - margin) a = 0.5 * (lo.a + hi.a);
  return a;
}

async function lineSearch(
  evalAt: (x: Float64Array) => Promise<{ f: number; g: Float64Array }>,
  x: Float64Array,
  f0: number,
  dphi0: number,
  dir: Float64Array,
  aInit: number,
): Promise<Point | undefined> {
  const at = async (a: number): Promise<Point> => {
    const xa = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) xa[i] = x[i]! + a * dir[i]!;
    const { f, g } = await evalAt(xa);
    return { a, x: xa, f, g, dphi: dot(g, dir) };
  };
  const armijo = (p: Point): boolean => p.f <= f0 + C1 * p.a * dphi0;
  let prev: Point = { a: 0, x, f: f0, g: new Float64Array(0), dphi: dphi0 };
  let a = aInit;
  let best: Point | undefined;
  for (let i = 0; i < MAX_LS; i++) {
    const cur = await at(a);
    if (!Number.isFinite(cur.f)) {
      a = 0.5 * (prev.a + a);
      continue;
    }
    if (armijo(cur) && (best === undefined || cur.f < best.f)) best = cur;
    if (!armijo(cur) || (i > 0 && cur.f >= prev.f)) return zoom(prev, cur);
    if (Math.abs(cur.dphi) <= -C2 * dphi0) return cur;
    if (cur.dphi >= 0) return zoom(cur, prev);
    prev = cur;
    a *= 4;
  }
  return best;

  async function zoom(loIn: Point, hiIn: Point): Promise<Point | undefined> {
    let lo = loIn;
    let hi = hiIn;
    for (let i = 0; i < MAX_LS; i++) {
      const cur = await at(interpolate(lo, hi));
      if (Number.isFinite(cur.f) && armijo(cur) && (best === undefined || cur.f < best.f)) best = cur;
      if (!Number.isFinite(cur.f) || !armijo(cur) || cur.f >= lo.f) {
        hi = cur;
      } else {
        if (Math.abs(cur.dphi) <= -C2 * dphi0) return cur;
        if (cur.dphi * (hi.a - lo.a) >= 0) hi = lo;
        lo = cur;
      }
      if (Math.abs(hi.a - lo.a) < 1e-12 * Math.max(1, lo.a)) break;
    }
    // No strong-Wolfe point (rounding noise in f near the optimum): accept sufficient decrease.
    return best !== undefined && best.f < f0 ? best : undefined;
  }
}
