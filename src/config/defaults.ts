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
  backdoor: {
    /** Where the backdoor detectors' learned representation comes from: auto = given embeddings if any, else a trained MLP. */
    representation: 'auto',
    /**
     * MLP hidden widths (the last is the penultimate representation) and epochs. 'auto' trains for
     * at least 8 epochs and at least 1,200 optimizer steps (at most 100 epochs): 20k Fashion-MNIST
     * learns a 3×3 BadNets patch (ASR ≥ 0.95) in 8 epochs = 1,256 steps; a 900-row set needs the
     * same number of steps, not of epochs.
     */
    hidden: [256, 128],
    epochs: 'auto',
    /** Upper bound on the poisoned share of a class; 'auto' estimates it per class (docs/backdoors.md). */
    budget: 'auto',
  },
  data: {
    maxLineBytes: 64 * 1024 * 1024,
    maxBytes: 4 * 1024 * 1024 * 1024,
  },
  home: {
    /** Relative to the working directory unless absolute (TRAINGUARD_HOME, --home). */
    dir: '.trainguard',
  },
  vault: {
    backend: 'fs',
    /** Plaintext bytes per AES-256-GCM segment: 1 MiB, as Tink's AES256_GCM_HKDF_1MB; ~35 % faster than 64 KiB here (docs/vault.md). */
    segmentSize: 1024 * 1024,
  },
} as const;
