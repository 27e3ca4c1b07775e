// Lint: typescript-eslint, plus the module boundaries of docs/architecture.md enforced as
// restricted import paths and a cycle check, so the architecture is held by CI, not by memory.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

/** Which modules each module may import (only through their index.ts). Keep in sync with docs/architecture.md. */
const allowed = {
  core: [],
  config: ['core'],
  data: ['core'],
  compute: ['core'],
  ledger: ['core'],
  vault: ['core'],
  access: ['core'],
  store: ['core'],
  jobs: ['core'],
  features: ['data', 'compute', 'core'],
  detectors: ['features', 'data', 'compute', 'core'],
  scan: ['detectors', 'features', 'data', 'compute', 'core'],
  redteam: ['data', 'compute', 'core'],
  app: ['scan', 'redteam', 'ledger', 'vault', 'access', 'store', 'jobs', 'detectors', 'features', 'data', 'compute', 'config', 'core'],
  server: ['app', 'config', 'core'],
  cli: ['server', 'app', 'config', 'core'],
};
const modules = Object.keys(allowed);

const zones = [];
for (const [target, deps] of Object.entries(allowed)) {
  for (const from of modules) {
    if (from === target) continue;
    if (deps.includes(from)) {
      // Allowed dependency, but only through its public surface.
      zones.push({
        target: `./src/${target}`,
        from: `./src/${from}`,
        except: ['./index.ts'],
        message: `import ${from} only through src/${from}/index.ts`,
      });
    } else {
      zones.push({
        target: `./src/${target}`,
        from: `./src/${from}`,
        message: `${target} must not import ${from} (see docs/architecture.md)`,
      });
    }
  }
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'web/dist/**', 'coverage/**', '**/*.js', '!eslint.config.js'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/extensions': ['.ts', '.js'] },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Only the CLI and benchmarks print.
    files: ['src/cli/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
