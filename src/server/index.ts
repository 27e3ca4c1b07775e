export { buildServer, statusOf } from './server.ts';
export type { ServerOptions } from './server.ts';
