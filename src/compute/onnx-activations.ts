/**
 * Activations from a user's ONNX model (issue 4 §1): run the data through the model in batches
 * and flatten one named output per sample into a row. The model file is untrusted input, so its
 * declared input and output are checked against the data before anything runs, and every native
 * failure (unreadable file, protobuf that is not a model, a run that throws) becomes a ComputeError.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import type * as OrtModule from 'onnxruntime-node';
import { ComputeError } from './errors.ts';
import { assertFinite, checkDense } from './kernels.ts';
import { dense, type DenseMatrix } from './matrix.ts';
import { computeBackendInfo, floatTensor, loadOrt } from './ort.ts';

type Ort = typeof OrtModule;
type Session = OrtModule.InferenceSession;
type ValueMetadata = OrtModule.InferenceSession.ValueMetadata;

export interface OnnxActivationsOptions {
  /** Name of the graph output to read (default: the model's first output). An intermediate value works once it is a graph output. */
  readonly output?: string;
  /**
   * Input layout: 'flat' feeds [n, d]; 'nchw' feeds [n, channels, height, width] (conv nets);
   * 'nhwc' feeds [n, height, width, channels]. Rows are channel-last pixels as the data module
   * stores them ((y·width + x)·channels + c), so 'nchw' transposes each row. Default 'flat'.
   */
  readonly layout?: 'flat' | 'nchw' | 'nhwc';
  /** Image size for 'nchw'/'nhwc' (default: the model's static input dims). Ignored for 'flat'. */
  readonly image?: { readonly width: number; readonly height: number; readonly channels: number };
  /** Rows per run (default 256). A model with a fixed batch dimension uses that instead. */
  readonly batchSize?: number;
}

/** 2^30 float32 values = 4 GiB: past this a feature-map output would exhaust memory, not produce a representation. */
const MAX_OUTPUT_VALUES = 2 ** 30;

interface InputPlan {
  readonly name: string;
  /** Dims of one sample, as fed. */
  readonly sampleDims: readonly number[];
  /** The model's fixed batch size, if it declares one. */
  readonly fixedBatch: number | null;
  /** Set for 'nchw' with more than one channel: rows are transposed HWC → CHW. */
  readonly chw: { readonly h: number; readonly w: number; readonly c: number } | null;
}

/**
 * Run `x` (n × d, one sample per row) through the ONNX model at `modelPath` and return the chosen
 * output flattened to n × outDim float32.
 *
 * @example const acts = await onnxActivations('resnet.onnx', pixels, { output: 'pool5', layout: 'nchw', image: { width: 32, height: 32, channels: 3 } });
 */
export async function onnxActivations(modelPath: string, x: DenseMatrix, options: OnnxActivationsOptions = {}): Promise<DenseMatrix> {
  const layout = options.layout ?? 'flat';
  const batchSize = options.batchSize ?? 256;
  checkOptions(layout, batchSize, options.image);
  checkDense(x, 'onnxActivations');
  assertFinite(x.data, x.cols, 'onnxActivations input');
  await checkModelFile(modelPath);

  const ort = await loadOrt();
  if (ort === null) {
    const { reason } = await computeBackendInfo();
    throw new ComputeError('COMPUTE_RUNTIME_UNAVAILABLE', `an ONNX model needs onnxruntime, which is not in use (${reason ?? 'unavailable'})`, {
      file: modelPath,
      hint: 'reinstall onnxruntime-node and do not force the typescript backend, or use the MLP representation instead',
    });
  }
  const s = await openSession(ort, modelPath);
  try {
    const input = planInput(s, layout, options.image, x.cols, modelPath);
    const output = pickOutput(s, options.output, modelPath);
    if (x.rows === 0) return dense(0, staticSampleSize(output) ?? 0);
    return await runBatches(ort, s, x, input, output.name, input.fixedBatch ?? batchSize, modelPath);
  } finally {
    await s.release();
  }
}

function checkOptions(layout: string, batchSize: number, image: OnnxActivationsOptions['image']): void {
  if (layout !== 'flat' && layout !== 'nchw' && layout !== 'nhwc') {
    throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `onnxActivations: unknown layout ${JSON.stringify(layout)}`, { hint: "use 'flat', 'nchw' or 'nhwc'" });
  }
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `onnxActivations: batchSize must be a positive integer, got ${batchSize}`);
  }
  if (image !== undefined && layout !== 'flat') {
    for (const [k, v] of Object.entries({ width: image.width, height: image.height, channels: image.channels })) {
      if (!Number.isSafeInteger(v) || v < 1) {
        throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `onnxActivations: image ${k} must be a positive integer, got ${v}`);
      }
    }
  }
}

/** Check the path ourselves: ORT's messages for a missing file or a directory are opaque native text. */
async function checkModelFile(path: string): Promise<void> {
  if (typeof path !== 'string' || path === '') {
    throw new ComputeError('COMPUTE_INVALID_ARGUMENT', 'onnxActivations: no model path given', { hint: 'pass the path of an .onnx file' });
  }
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', 'the ONNX model path is not a file', { file: path, hint: 'pass the path of an .onnx file' });
    size = st.size;
    await access(path, constants.R_OK);
  } catch (err) {
    if (err instanceof ComputeError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `cannot read the ONNX model (${code})`, { file: path, cause: err, hint: 'check the model path and its permissions' });
  }
  if (size === 0) throw new ComputeError('COMPUTE_INVALID_ARGUMENT', 'the ONNX model file is empty', { file: path, hint: 'export the model again' });
}

/** ORT's native message, first line and bounded (they can embed whole shapes). */
const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);

async function openSession(ort: Ort, path: string): Promise<Session> {
  const { threads } = await computeBackendInfo();
  try {
    // By path, not bytes, so ORT can resolve external-data weights next to the model.
    return await ort.InferenceSession.create(path, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 4, // library code does not print; failures arrive as exceptions and become ComputeErrors
    });
  } catch (err) {
    throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `onnxruntime cannot load the file as an ONNX model: ${firstLine(err)}`, {
      file: path,
      cause: err,
      hint: 'pass an ONNX model (e.g. from torch.onnx.export or tf2onnx) whose operators this onnxruntime supports',
    });
  }
}

const staticDim = (d: number | string | undefined): number | null => (typeof d === 'number' && Number.isSafeInteger(d) && d > 0 ? d : null);
const showShape = (shape: readonly (number | string)[]): string => `[${shape.map((d) => String(d)).join(', ')}]`;

/** Product of the declared per-sample dims when all are static. */
function staticSampleSize(meta: ValueMetadata): number | null {
  if (!meta.isTensor || meta.shape.length < 1) return null;
  let size = 1;
  for (const d of meta.shape.slice(1)) {
    const v = staticDim(d);
    if (v === null) return null;
    size *= v;
  }
  return size;
}

function planInput(s: Session, layout: 'flat' | 'nchw' | 'nhwc', image: OnnxActivationsOptions['image'], d: number, file: string): InputPlan {
  const metas = s.inputMetadata;
  if (metas.length !== 1) {
    throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `the ONNX model has ${metas.length} inputs (${s.inputNames.join(', ')}); activations need a model with one input`, {
      file,
      hint: 'export a model whose only input is the sample tensor (fold other inputs into constants)',
    });
  }
  const meta = metas[0]!;
  if (!meta.isTensor || meta.type !== 'float32') {
    const type = meta.isTensor ? meta.type : 'a non-tensor value';
    throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `the ONNX model input '${meta.name}' is ${type}; the data is float32`, { file, hint: 'export the model with a float32 input' });
  }
  const shape = meta.shape;
  const rank = layout === 'flat' ? 2 : 4;
  if (shape.length !== 0 && shape.length !== rank) {
    throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `the ONNX model input '${meta.name}' has shape ${showShape(shape)} (rank ${shape.length}); layout '${layout}' feeds rank ${rank}`, {
      file,
      hint: shape.length === 4 ? "for an image model use layout 'nchw' or 'nhwc'" : shape.length === 2 ? "for a model on feature vectors use layout 'flat'" : 'export the model with a [batch, features] or [batch, channels, height, width] input',
    });
  }
  const fixedBatch = staticDim(shape[0]);
  if (layout === 'flat') {
    const want = staticDim(shape[1]);
    if (want !== null && want !== d) {
      throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `the ONNX model input '${meta.name}' takes ${want} features, the data has ${d}`, {
        file,
        hint: 'feed the same feature columns, in the same order, as the model was trained on',
      });
    }
    return { name: meta.name, sampleDims: [d], fixedBatch, chw: null };
  }
  // Declared [c,h,w] (nchw) or [h,w,c] (nhwc), null where dynamic or unknown.
  const declared = layout === 'nchw' ? { c: shape[1], h: shape[2], w: shape[3] } : { h: shape[1], w: shape[2], c: shape[3] };
  const dc = staticDim(declared.c);
  const dh = staticDim(declared.h);
  const dw = staticDim(declared.w);
  let img: { h: number; w: number; c: number };
  if (image !== undefined) {
    img = { h: image.height, w: image.width, c: image.channels };
    if ((dc !== null && dc !== img.c) || (dh !== null && dh !== img.h) || (dw !== null && dw !== img.w)) {
      throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `the ONNX model input '${meta.name}' has shape ${showShape(shape)}, the images are ${img.w}×${img.h}×${img.c} (${layout})`, {
        file,
        hint: 'resize the images to the model input size, or check the layout',
      });
    }
  } else if (dc !== null && dh !== null && dw !== null) {
    img = { h: dh, w: dw, c: dc };
  } else {
    throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `the ONNX model input '${meta.name}' has no fixed image size (${showShape(shape)}); give the image width, height and channels`, { file });
  }
  if (img.h * img.w * img.c !== d) {
    throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `a ${img.w}×${img.h}×${img.c} image has ${img.h * img.w * img.c} values, the data has ${d} columns`, {
      file,
      hint: 'each row must be one image, channel-last; check the image size and channels',
    });
  }
  return {
    name: meta.name,
    sampleDims: layout === 'nchw' ? [img.c, img.h, img.w] : [img.h, img.w, img.c],
    fixedBatch,
    chw: layout === 'nchw' && img.c > 1 ? img : null,
  };
}

function pickOutput(s: Session, name: string | undefined, file: string): ValueMetadata & { isTensor: true } {
  const metas = s.outputMetadata;
  const meta = name === undefined ? metas[0] : metas.find((m) => m.name === name);
  if (meta === undefined) {
    const list = s.outputNames.map((n) => `'${n}'`).join(', ');
    throw new ComputeError('COMPUTE_INVALID_ARGUMENT', name === undefined ? 'the ONNX model has no outputs' : `the ONNX model has no output '${name}'`, {
      file,
      hint: `its outputs are ${list === '' ? '(none)' : list}; to read an intermediate layer, export it as a graph output`,
    });
  }
  if (!meta.isTensor || (meta.type !== 'float32' && meta.type !== 'float64')) {
    throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `the ONNX model output '${meta.name}' is ${meta.isTensor ? meta.type : 'not a tensor'}, not float`, {
      file,
      hint: 'choose a float output such as the penultimate layer or the logits',
    });
  }
  return meta;
}

async function runBatches(ort: Ort, s: Session, x: DenseMatrix, input: InputPlan, outName: string, batch: number, file: string): Promise<DenseMatrix> {
  const { rows: n, cols: d } = x;
  let out: Float32Array | null = null;
  let outDim = 0;
  // A model with a fixed batch size gets a zero-padded last batch; a CHW model gets transposed rows.
  const scratch = input.fixedBatch !== null || input.chw !== null ? new Float32Array(batch * d) : null;
  for (let start = 0; start < n; start += batch) {
    const real = Math.min(batch, n - start);
    const fed = input.fixedBatch ?? real;
    let data: Float32Array;
    if (scratch === null) {
      data = x.data.subarray(start * d, (start + real) * d);
    } else {
      fillBatch(scratch, x.data, start, real, d, input.chw);
      data = scratch.subarray(0, fed * d);
    }
    const tensor = floatTensor(ort, data, [fed, ...input.sampleDims]);
    let result: OrtModule.InferenceSession.ReturnType;
    try {
      result = await s.run({ [input.name]: tensor }, [outName], { logSeverityLevel: 4 });
    } catch (err) {
      throw new ComputeError('COMPUTE_RUNTIME_FAILED', `onnxruntime failed running the model on rows ${start}..${start + real - 1}: ${firstLine(err)}`, {
        file,
        cause: err,
        hint: 'check that the layout and image size match the model input; a smaller batchSize helps if memory ran out',
      });
    }
    const t = result[outName] as OrtModule.Tensor | undefined;
    if (t === undefined || (t.type !== 'float32' && t.type !== 'float64')) {
      throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `the ONNX model output '${outName}' came back as ${t?.type ?? 'nothing'}, not float`, { file });
    }
    if (t.dims.length < 1 || t.dims[0] !== fed) {
      throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `the ONNX model output '${outName}' has shape ${showShape(t.dims)} for a batch of ${fed}; it is not one row per sample`, {
        file,
        hint: 'choose an output whose first dimension is the batch',
      });
    }
    const dim = t.dims.slice(1).reduce((a, b) => a * b, 1);
    if (out === null) {
      if (dim < 1 || n * dim > MAX_OUTPUT_VALUES) {
        throw new ComputeError('COMPUTE_INVALID_ARGUMENT', `the ONNX model output '${outName}' has ${dim} values per sample; ${n} rows would need ${n * dim}`, {
          file,
          hint: 'choose a pooled or penultimate output rather than a feature map',
        });
      }
      outDim = dim;
      out = new Float32Array(n * outDim);
    } else if (dim !== outDim) {
      throw new ComputeError('COMPUTE_SHAPE_MISMATCH', `the ONNX model output '${outName}' changed from ${outDim} to ${dim} values per sample between batches`, { file });
    }
    const src = t.data as Float32Array | Float64Array;
    const take = real * outDim;
    for (let i = 0; i < take; i++) {
      const v = src[i]!;
      if (!Number.isFinite(v)) {
        throw new ComputeError('COMPUTE_NON_FINITE', `the ONNX model output '${outName}' is not finite at row ${start + Math.floor(i / outDim)}`, {
          file,
          hint: 'scale the inputs as the model was trained (e.g. pixels in [0, 1] or normalised), or choose another output',
        });
      }
    }
    // float64 → float32 on copy; the padded rows of a fixed-batch model are dropped here.
    out.set(src.length === take ? src : src.subarray(0, take), start * outDim);
  }
  return dense(n, outDim, out ?? new Float32Array(0));
}

/** Copy `real` rows into `dst` (transposed HWC → CHW when asked) and zero the padding after them. */
function fillBatch(dst: Float32Array, src: Float32Array, start: number, real: number, d: number, chw: InputPlan['chw']): void {
  if (chw === null) {
    dst.set(src.subarray(start * d, (start + real) * d));
  } else {
    const { h, w, c } = chw;
    const hw = h * w;
    for (let r = 0; r < real; r++) {
      const from = (start + r) * d;
      const to = r * d;
      for (let p = 0; p < hw; p++) {
        for (let ch = 0; ch < c; ch++) dst[to + ch * hw + p] = src[from + p * c + ch]!;
      }
    }
  }
  dst.fill(0, real * d);
}
