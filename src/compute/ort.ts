/**
 * onnxruntime-node behind a small facade: load the runtime once, build one session per graph
 * kind from hand-encoded ONNX, and report (not crash) when the native runtime is missing so
 * callers fall back to the TypeScript kernels.
 */
import { availableParallelism } from 'node:os';
import type * as OrtModule from 'onnxruntime-node';
import { ComputeError } from './errors.ts';
import { ELEM_DOUBLE, ELEM_FLOAT, ELEM_INT64, encodeModel } from './onnx-model.ts';
import type { GraphSpec } from './onnx-model.ts';

type Ort = typeof OrtModule;
export type OrtTensor = OrtModule.Tensor;
type Session = OrtModule.InferenceSession;

export type ComputeBackend = 'onnxruntime' | 'typescript';

export interface ComputeBackendInfo {
  readonly backend: ComputeBackend;
  /** Why the TypeScript kernels are in use, when they are. */
  readonly reason?: string;
  readonly threads: number;
}

let requested: 'auto' | 'typescript' = 'auto';
let threads = Math.max(1, Math.min(2, availableParallelism()));
let ortPromise: Promise<Ort | null> | undefined;
let loadFailure: string | undefined;
const sessions = new Map<string, Promise<Session>>();

/**
 * Choose the backend ('typescript' forces the plain kernels, e.g. to test the fallback) and the
 * ORT intra-op thread count. Changing threads drops cached sessions.
 */
export function configureCompute(opts: { backend?: 'auto' | 'typescript'; threads?: number }): void {
  if (opts.backend !== undefined) requested = opts.backend;
  if (opts.threads !== undefined) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) {
      throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `threads must be a positive integer, got ${opts.threads}`);
    }
    if (opts.threads !== threads) sessions.clear();
    threads = opts.threads;
  }
}

/** Which backend the heavy kernels will use (loads the runtime on first call). */
export async function computeBackendInfo(): Promise<ComputeBackendInfo> {
  if (requested === 'typescript') return { backend: 'typescript', reason: 'configured', threads: 1 };
  const ort = await loadOrt();
  if (ort === null) return { backend: 'typescript', reason: loadFailure ?? 'onnxruntime unavailable', threads: 1 };
  return { backend: 'onnxruntime', threads };
}

/** The ORT module, or null when it cannot load or the TypeScript backend is forced. */
export async function loadOrt(): Promise<Ort | null> {
  if (requested === 'typescript') return null;
  ortPromise ??= import('onnxruntime-node').then(
    (m) => {
      // The ESM wrapper of a CJS package exposes the API both at the top level and on default.
      const mod = (m as unknown as { default?: Ort }).default ?? (m as unknown as Ort);
      return typeof mod.InferenceSession?.create === 'function' ? mod : fail('onnxruntime-node has no InferenceSession');
    },
    (err: unknown) => fail(err instanceof Error ? err.message : String(err)),
  );
  return ortPromise;
}

function fail(reason: string): null {
  loadFailure = `onnxruntime-node failed to load: ${reason}`;
  return null;
}

/** A cached session for `key`, built from `spec()` on first use. */
export async function session(ort: Ort, key: string, spec: () => GraphSpec): Promise<Session> {
  let s = sessions.get(key);
  if (s === undefined) {
    s = ort.InferenceSession.create(encodeModel(spec()), {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    s.catch(() => sessions.delete(key));
    sessions.set(key, s);
  }
  try {
    return await s;
  } catch (err) {
    throw new ComputeError('COMPUTE_RUNTIME_FAILED', `onnxruntime could not build the ${key} graph`, { cause: err });
  }
}

/** Run a session, turning native errors into ComputeError. */
export async function run(s: Session, feeds: Record<string, OrtTensor>, what: string): Promise<Record<string, OrtTensor>> {
  try {
    return (await s.run(feeds)) as Record<string, OrtTensor>;
  } catch (err) {
    throw new ComputeError('COMPUTE_RUNTIME_FAILED', `onnxruntime failed while computing ${what}`, {
      cause: err,
      hint: 'this is likely out of memory; try a smaller dataset or the typescript backend',
    });
  }
}

export function floatTensor(ort: Ort, data: Float32Array, dims: readonly number[]): OrtTensor {
  return new ort.Tensor('float32', data, dims);
}

export function tensorFloat32(t: OrtTensor | undefined, what: string): Float32Array {
  if (t === undefined || !(t.data instanceof Float32Array)) {
    throw new ComputeError('COMPUTE_RUNTIME_FAILED', `onnxruntime returned no float output for ${what}`);
  }
  return t.data;
}

// ---- graph specs -------------------------------------------------------------------------

const f = (name: string, ...dims: (number | string)[]) => ({ name, elemType: ELEM_FLOAT, dims });

/** C = op(A)·op(B) with op = transpose when flagged; float32 or float64. */
export function gemmGraph(transA: boolean, transB: boolean, double = false): GraphSpec {
  const t = (name: string, ...dims: string[]) => ({ name, elemType: double ? ELEM_DOUBLE : ELEM_FLOAT, dims });
  return {
    name: 'gemm',
    nodes: [{ op: 'Gemm', inputs: ['A', 'B'], outputs: ['C'], attrs: { transA: transA ? 1 : 0, transB: transB ? 1 : 0 } }],
    inputs: [t('A', 'a0', 'a1'), t('B', 'b0', 'b1')],
    outputs: [t('C', 'm', 'n')],
  };
}

/**
 * kNN candidates: score = 2·Q·Rᵀ + C (C = −‖r‖² for Euclidean, 0 for cosine on unit rows),
 * then TopK(largest) per query row, so only b×c candidates leave the runtime instead of b×n scores.
 */
export function knnTopKGraph(): GraphSpec {
  return {
    name: 'knn_topk',
    nodes: [
      { op: 'Gemm', inputs: ['Q', 'R', 'C'], outputs: ['S'], attrs: { transB: 1, alpha: { float: 2 }, beta: { float: 1 } } },
      { op: 'TopK', inputs: ['S', 'K'], outputs: ['V', 'I'], attrs: { axis: 1, largest: 1, sorted: 1 } },
    ],
    inputs: [f('Q', 'b', 'd'), f('R', 'n', 'd'), f('C', 1, 'n'), { name: 'K', elemType: ELEM_INT64, dims: [1] }],
    outputs: [f('V', 'b', 'c'), { name: 'I', elemType: ELEM_INT64, dims: ['b', 'c'] }],
  };
}

/**
 * Softmax cross-entropy pieces for one L-BFGS step: L_i = Σ_c Y∘log softmax(XW+b) per row (summed
 * in float64 by the caller), dWᵀ = (P−Y)ᵀX, db = Σrows(P−Y). Scaling by 1/n and the L2 term are done by the caller.
 */
export function softmaxLossGraph(): GraphSpec {
  return {
    name: 'softmax_loss',
    nodes: [
      { op: 'Gemm', inputs: ['X', 'W', 'B'], outputs: ['Z'] },
      { op: 'LogSoftmax', inputs: ['Z'], outputs: ['LS'], attrs: { axis: 1 } },
      { op: 'Mul', inputs: ['Y', 'LS'], outputs: ['YLS'] },
      { op: 'ReduceSum', inputs: ['YLS', 'AX1'], outputs: ['L'], attrs: { keepdims: 0 } },
      { op: 'Exp', inputs: ['LS'], outputs: ['P'] },
      { op: 'Sub', inputs: ['P', 'Y'], outputs: ['G'] },
      // (P−Y)ᵀX (K×d) ran ~1.5x faster in MLAS than Xᵀ(P−Y) with transA on the tall X.
      { op: 'Gemm', inputs: ['G', 'X'], outputs: ['DWT'], attrs: { transA: 1 } },
      { op: 'ReduceSum', inputs: ['G', 'AX0'], outputs: ['DB'], attrs: { keepdims: 0 } },
    ],
    initializers: [
      { name: 'AX0', dims: [1], values: [0] },
      { name: 'AX1', dims: [1], values: [1] },
    ],
    inputs: [f('X', 'n', 'd'), f('Y', 'n', 'k'), f('W', 'd', 'k'), f('B', 'k')],
    outputs: [f('L', 'n'), f('DWT', 'k', 'd'), f('DB', 'k')],
  };
}

/** P = softmax(XW + b) row-wise. */
export function softmaxPredictGraph(): GraphSpec {
  return {
    name: 'softmax_predict',
    nodes: [
      { op: 'Gemm', inputs: ['X', 'W', 'B'], outputs: ['Z'] },
      { op: 'Softmax', inputs: ['Z'], outputs: ['P'], attrs: { axis: 1 } },
    ],
    inputs: [f('X', 'n', 'd'), f('W', 'd', 'k'), f('B', 'k')],
    outputs: [f('P', 'n', 'k')],
  };
}

/** Column means MU (1×d) and the centred Gram matrix G = (X−MU)ᵀ(X−MU) (d×d), without a JS copy of X. */
export function centredGramGraph(): GraphSpec {
  return {
    name: 'centred_gram',
    nodes: [
      { op: 'ReduceMean', inputs: ['X'], outputs: ['MU'], attrs: { axes: [0], keepdims: 1 } },
      { op: 'Sub', inputs: ['X', 'MU'], outputs: ['XC'] },
      { op: 'Gemm', inputs: ['XC', 'XC'], outputs: ['G'], attrs: { transA: 1 } },
    ],
    inputs: [f('X', 'n', 'd')],
    outputs: [f('MU', 1, 'd'), f('G', 'd', 'd')],
  };
}

/** (X − MU)·Vᵀ: projection onto the rows of V (k×d). */
export function centredProjectGraph(): GraphSpec {
  return {
    name: 'centred_project',
    nodes: [
      { op: 'Sub', inputs: ['X', 'MU'], outputs: ['XC'] },
      { op: 'Gemm', inputs: ['XC', 'V'], outputs: ['Z'], attrs: { transB: 1 } },
    ],
    inputs: [f('X', 'n', 'd'), f('MU', 'd'), f('V', 'k', 'd')],
    outputs: [f('Z', 'n', 'k')],
  };
}
