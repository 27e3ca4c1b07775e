import type { Finding, ProgressFn, Rng } from '../core/index.ts';
import type { Dataset } from '../data/index.ts';
import type { KnnGraph } from '../compute/index.ts';
import type { ReferenceInput } from './reference.ts';

/**
 * Everything a detector may look at. Expensive shared artefacts (out-of-fold probabilities,
 * the kNN graph) are computed once by the scan and handed to every detector that needs them.
 */
export interface DetectorContext {
  readonly dataset: Dataset;
  /** Given labels as class codes, length n. */
  readonly labels: Int32Array;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  /** Out-of-fold predicted probabilities, n × numClasses row-major, if a model was trained. */
  readonly predProbs: Float32Array | null;
  /** kNN graph over the (reduced) feature representation, if built. */
  readonly knn: KnnGraph | null;
  /**
   * The batch compared with a baseline's trusted reference sample (scan --baseline only): trusted
   * neighbours of each row and the domain classifier's probabilities, for the `drift` detector.
   */
  readonly reference?: ReferenceInput | null;
  /** What a model learned from the data (penultimate activations), for the backdoor detectors; built when one needs it. */
  readonly learned?: LearnedRepresentation | null;
  readonly rng: Rng;
  readonly progress: ProgressFn;
}

export interface DetectorResult {
  /** Suspicion score per sample in [0, 1] (higher = more suspicious), length n. */
  readonly scores: Float32Array;
  /** Samples this detector flags, with evidence; a subset of all samples. */
  readonly findings: readonly Finding[];
  /** Dataset-level facts for the report (e.g. estimated noise matrix), JSON-serialisable. */
  readonly summary: Readonly<Record<string, unknown>>;
  /**
   * Optional per-sample extras, length n each. `label-issues` fills these with the label the
   * evidence suggests instead (argmax of its blended probabilities) and that label's probability,
   * for every sample, flagged or not, so reports can offer a relabel.
   */
  readonly perSample?: DetectorPerSample;
}

/** Per-sample extras a detector may return beside its scores. */
export interface DetectorPerSample {
  readonly suggestedLabel: Int32Array;
  readonly suggestedProbability: Float32Array;
}

export type DetectorNeed = 'predProbs' | 'knn' | 'learned';

/**
 * A learned representation of every sample: the penultimate-layer activations of a net trained on
 * the (possibly poisoned) data, given embeddings, or a user's ONNX model's activations.
 */
export interface LearnedRepresentation {
  /** n × dim activations, row-major. */
  readonly activations: Float32Array;
  readonly dim: number;
  /**
   * The trained net's own (in-sample) class probabilities, n × numClasses, when TrainGuard trained
   * it: a backdoor sample is one the net learned to put in its (wrong-looking) class.
   */
  readonly probabilities: Float32Array | null;
  readonly source: 'mlp' | 'embedding' | 'onnx';
  /**
   * Each row's nearest neighbours in a trigger-blind view of the *inputs* (columns range-scaled,
   * not standardised: standardising blows a rare trigger pixel up), for the label-consistency check;
   * null to use the scan's kNN graph.
   */
  readonly lookAlikes: KnnGraph | null;
  /** Facts for the report (architecture, epochs, final loss, training accuracy, model path). */
  readonly info: Readonly<Record<string, unknown>>;
}

export interface Detector {
  readonly name: string;
  readonly description: string;
  readonly needs: readonly DetectorNeed[];
  run(ctx: DetectorContext): DetectorResult | Promise<DetectorResult>;
}
