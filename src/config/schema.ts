import { z } from 'zod';
import { DEFAULTS } from './defaults.ts';

export const FILTER_BY = [
  'auto',
  'rank_by_noise_rate',
  'prune_by_noise_rate',
  'prune_by_class',
  'both',
  'confident_learning',
  'predicted_neq_given',
  'low_self_confidence',
  'low_normalized_margin',
] as const;

const severity = z.enum(['info', 'low', 'medium', 'high', 'critical']);

export const configSchema = z
  .object({
    scan: z
      .object({
        seed: z.number().int().min(0).max(2 ** 32 - 1).default(DEFAULTS.scan.seed),
        folds: z.number().int().min(2).max(20).default(DEFAULTS.scan.folds),
        k: z.number().int().min(1).max(100).default(DEFAULTS.scan.k),
        filterBy: z.enum(FILTER_BY).default(DEFAULTS.scan.filterBy),
        knnWeight: z.number().min(0).max(1).default(DEFAULTS.scan.knnWeight),
        reducedDim: z.number().int().min(2).max(4096).default(DEFAULTS.scan.reducedDim),
        l2: z.number().positive().optional(),
        maxIter: z.number().int().min(1).max(10000).default(DEFAULTS.scan.maxIter),
        failOn: severity.default(DEFAULTS.scan.failOn),
        top: z.number().int().min(0).default(DEFAULTS.scan.top),
        previews: z.number().int().min(0).max(10000).default(DEFAULTS.scan.previews),
        detectors: z.array(z.string()).min(1).default([...DEFAULTS.scan.detectors]),
      })
      .strict()
      .prefault({}),
    backdoor: z
      .object({
        representation: z.enum(['auto', 'mlp', 'embedding', 'onnx']).default(DEFAULTS.backdoor.representation),
        /** ONNX model to take activations from (representation 'onnx'). */
        model: z.string().optional(),
        /** The model output to read (default: its first output). */
        output: z.string().optional(),
        layout: z.enum(['flat', 'nchw', 'nhwc']).optional(),
        hidden: z.array(z.number().int().min(2).max(4096)).min(1).max(4).default([...DEFAULTS.backdoor.hidden]),
        epochs: z.union([z.literal('auto'), z.number().int().min(1).max(200)]).default(DEFAULTS.backdoor.epochs),
        budget: z.union([z.literal('auto'), z.number().gt(0).max(0.5)]).default(DEFAULTS.backdoor.budget),
      })
      .strict()
      .prefault({}),
    columns: z
      .object({
        label: z.string().optional(),
        text: z.string().optional(),
        id: z.string().optional(),
        source: z.string().optional(),
        embedding: z.string().optional(),
        image: z.string().optional(),
        ignore: z.array(z.string()).optional(),
      })
      .strict()
      .prefault({}),
    data: z
      .object({
        imageSize: z.number().int().min(4).max(256).optional(),
        imageGrey: z.boolean().optional(),
        maxLineBytes: z.number().int().positive().default(DEFAULTS.data.maxLineBytes),
        maxBytes: z.number().int().positive().default(DEFAULTS.data.maxBytes),
      })
      .strict()
      .prefault({}),
    home: z
      .object({
        /** The TrainGuard home: key files, the encrypted vault, users and grants, the provenance log. */
        dir: z.string().min(1).default(DEFAULTS.home.dir),
      })
      .strict()
      .prefault({}),
    vault: z
      .object({
        backend: z.enum(['fs', 's3']).default(DEFAULTS.vault.backend),
        segmentSize: z.number().int().min(1024).max(16 * 1024 * 1024).default(DEFAULTS.vault.segmentSize),
        /** S3-compatible object storage (backend 's3'); credentials come from the AWS SDK's usual chain. */
        s3: z
          .object({
            bucket: z.string().min(3).max(63),
            endpoint: z.string().url().optional(),
            region: z.string().default('us-east-1'),
            prefix: z.string().default(''),
            forcePathStyle: z.boolean().default(true),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The one resolved configuration object passed down from the CLI. */
export type Config = z.infer<typeof configSchema>;
/** What a config file, environment or flags may set: any subset. */
export type ConfigInput = z.input<typeof configSchema>;
