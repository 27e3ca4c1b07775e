// Runs the vault behaviour suite on the in-memory backend; being the fastest, it flips every bit
// of the tamper test's objects (the filesystem and S3 runs sample them).
import { MemoryBackend } from './memory-backend.ts';
import { vaultBehaviourSuite } from './vault-suite.ts';

vaultBehaviourSuite({
  name: 'memory',
  open: async () => new MemoryBackend(),
  disk: () => undefined,
  bitStride: 1,
});
