export { DEFAULTS } from './defaults.ts';
export { configSchema, FILTER_BY } from './schema.ts';
export type { Config, ConfigInput } from './schema.ts';
export { resolveConfig, ConfigError, CONFIG_FILE_NAMES } from './resolve.ts';
export type { ConfigErrorCode, ResolveOptions } from './resolve.ts';
