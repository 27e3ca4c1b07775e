import { readFileSync, existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { TrainGuardError } from '../core/index.ts';
import { configSchema, type Config } from './schema.ts';

export type ConfigErrorCode = 'CONFIG_NOT_FOUND' | 'CONFIG_BAD_JSON' | 'CONFIG_INVALID';

export class ConfigError extends TrainGuardError<ConfigErrorCode> {
  override readonly name = 'ConfigError';
  readonly module = 'config';
}

export const CONFIG_FILE_NAMES = ['trainguard.config.json'] as const;

/** Environment variables and the config key each one sets (numbers parsed, lists comma-separated). */
const ENV_KEYS: Record<string, readonly [string, string, 'number' | 'string' | 'list' | 'boolean']> = {
  TRAINGUARD_SEED: ['scan', 'seed', 'number'],
  TRAINGUARD_FOLDS: ['scan', 'folds', 'number'],
  TRAINGUARD_K: ['scan', 'k', 'number'],
  TRAINGUARD_FILTER_BY: ['scan', 'filterBy', 'string'],
  TRAINGUARD_KNN_WEIGHT: ['scan', 'knnWeight', 'number'],
  TRAINGUARD_REDUCED_DIM: ['scan', 'reducedDim', 'number'],
  TRAINGUARD_FAIL_ON: ['scan', 'failOn', 'string'],
  TRAINGUARD_DETECTORS: ['scan', 'detectors', 'list'],
  TRAINGUARD_BACKDOOR_MODEL: ['backdoor', 'model', 'string'],
  TRAINGUARD_LABEL_COLUMN: ['columns', 'label', 'string'],
  TRAINGUARD_TEXT_COLUMN: ['columns', 'text', 'string'],
  TRAINGUARD_ID_COLUMN: ['columns', 'id', 'string'],
  TRAINGUARD_IMAGE_SIZE: ['data', 'imageSize', 'number'],
  TRAINGUARD_HOME: ['home', 'dir', 'string'],
  TRAINGUARD_VAULT_BACKEND: ['vault', 'backend', 'string'],
};

type Layer = Record<string, Record<string, unknown>>;

export interface ResolveOptions {
  /** Explicit `--config` path; otherwise `trainguard.config.json` in `cwd` if it exists. */
  readonly file?: string | undefined;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Flags given on the command line, in config shape; they win over everything. */
  readonly flags?: Layer;
}

/** Resolve config once: schema defaults ← file ← TRAINGUARD_* environment ← flags. */
export function resolveConfig(options: ResolveOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const fileLayer = readConfigFile(options.file, cwd);
  const envLayer = readEnv(options.env ?? process.env);
  const merged = mergeLayers([fileLayer, envLayer, options.flags ?? {}]);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first === undefined ? '' : first.path.join('.');
    throw new ConfigError('CONFIG_INVALID', `invalid configuration at ${where || '(root)'}: ${first?.message ?? 'unknown'}`, {
      hint: 'check the key against docs/cli.md#configuration',
    });
  }
  return parsed.data;
}

function readConfigFile(file: string | undefined, cwd: string): Layer {
  let path: string | undefined;
  if (file !== undefined) {
    path = resolvePath(cwd, file);
    if (!existsSync(path)) {
      throw new ConfigError('CONFIG_NOT_FOUND', 'config file not found', { file: path, hint: 'pass an existing file to --config' });
    }
  } else {
    const found = CONFIG_FILE_NAMES.map((n) => resolvePath(cwd, n)).find((p) => existsSync(p));
    if (found === undefined) return {};
    path = found;
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ConfigError('CONFIG_BAD_JSON', 'config file is not valid JSON', { file: path, cause, hint: 'validate it with `node -e "JSON.parse(require(\'fs\').readFileSync(process.argv[1]))" <file>`' });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('CONFIG_INVALID', 'config file must hold a JSON object', { file: path });
  }
  return value as Layer;
}

function readEnv(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = {};
  for (const [name, [section, key, type]] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (type === 'number') {
      value = Number(raw);
      if (!Number.isFinite(value)) {
        throw new ConfigError('CONFIG_INVALID', `${name} must be a number, got "${raw}"`, { hint: `unset ${name} or give a number` });
      }
    } else if (type === 'list') {
      value = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    } else if (type === 'boolean') {
      value = raw === '1' || raw.toLowerCase() === 'true';
    }
    (layer[section] ??= {})[key] = value;
  }
  return layer;
}

function mergeLayers(layers: readonly Layer[]): Layer {
  const out: Layer = {};
  for (const layer of layers) {
    for (const [section, values] of Object.entries(layer)) {
      if (typeof values !== 'object' || values === null || Array.isArray(values)) {
        out[section] = values as never;
        continue;
      }
      const target = (out[section] ??= {});
      for (const [k, v] of Object.entries(values)) if (v !== undefined) target[k] = v;
    }
  }
  return out;
}
