/** Every default in one place. docs/cli.md documents each of these keys. */
export const DEFAULTS = {
  scan: {
    seed: 0,
    folds: 5,
    k: 10,
    filterBy: 'auto',
    knnWeight: 0.4,
    reducedDim: 128,
    maxIter: 300,
    failOn: 'high',
    top: 20,
    previews: 200,
    detectors: ['label-issues', 'duplicates', 'near-duplicates', 'outliers', 'validation'],
  },
  data: {
    maxLineBytes: 64 * 1024 * 1024,
    maxBytes: 4 * 1024 * 1024 * 1024,
  },
} as const;
