/**
 * The HTTP API (fastify): JSON in and out, an OpenAPI document at /openapi.json, bearer-token
 * auth on every /api route, and every route authorised by role inside the use case it calls — the
 * server holds no rules of its own. Errors are `{ code, message, hint? }` with the status the
 * code's kind calls for.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { isTrainGuardError } from '../core/index.ts';
import { BATCH_LIMITS, TOOL_VERSION, type AccessControl, type Principal, type Service } from '../app/index.ts';

export interface ServerOptions {
  readonly service: Service;
  readonly access: AccessControl;
}

/** HTTP status for an error code, by its kind (the part after the module prefix). */
export function statusOf(code: string): number {
  if (code.endsWith('_UNAUTHENTICATED')) return 401;
  if (code.endsWith('_DENIED')) return 403;
  if (code.endsWith('_NOT_FOUND')) return 404;
  if (code.endsWith('_TOO_LARGE')) return 413;
  if (code.endsWith('_CONFLICT') || code.endsWith('_EXISTS') || code.endsWith('_SELF_REVIEW') || code.endsWith('_IDEMPOTENCY_CONFLICT')) return 409;
  if (code.endsWith('_BAD_INPUT') || code.endsWith('_WEAK_PASSWORD') || code.startsWith('DATA_')) return 400;
  if (code.endsWith('_BUSY') || code.endsWith('_UNAVAILABLE') || code.endsWith('_LOCKED')) return 503;
  return 500;
}

const FORMAT_BY_TYPE: Readonly<Record<string, string>> = {
  'text/csv': 'csv',
  'text/tab-separated-values': 'tsv',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/vnd.apache.parquet': 'parquet',
};

const errorSchema = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' } }, required: ['code', 'message'] } as const;
const idParam = { type: 'object', properties: { id: { type: 'string', maxLength: 128 } }, required: ['id'] } as const;

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { service, access } = options;
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'TrainGuard', version: TOOL_VERSION, description: 'Ingest, scan, review and release training data, with provenance.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  // Batch uploads arrive as raw bytes in their own format.
  app.addContentTypeParser(Object.keys(FORMAT_BY_TYPE), { parseAs: 'buffer', bodyLimit: BATCH_LIMITS.maxBytes }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: unknown, _req, reply) => {
    if (isTrainGuardError(err)) {
      void reply.status(statusOf(err.code)).send({ code: err.code, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) });
      return;
    }
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (typeof e.statusCode === 'number' && e.statusCode < 500) {
      const code = e.statusCode === 401 ? 'ACCESS_UNAUTHENTICATED' : e.statusCode === 413 ? 'HTTP_TOO_LARGE' : e.statusCode === 415 ? 'HTTP_UNSUPPORTED_MEDIA_TYPE' : 'HTTP_BAD_REQUEST';
      void reply.status(e.statusCode).send({ code, message: e.message ?? 'bad request' });
      return;
    }
    void reply.status(500).send({ code: 'INTERNAL', message: 'internal error' });
  });
  app.setNotFoundHandler((_req, reply) => void reply.status(404).send({ code: 'HTTP_NOT_FOUND', message: 'no such route' }));

  const principal = async (req: FastifyRequest): Promise<Principal> => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer (\S+)$/.exec(header);
    if (m === null) throw Object.assign(new Error('missing bearer token'), { statusCode: 401 });
    return access.authenticate(m[1] as string);
  };
  const guard = <T>(fn: (actor: Principal, req: FastifyRequest, reply: FastifyReply) => Promise<T>) => async (req: FastifyRequest, reply: FastifyReply): Promise<T> => fn(await principal(req), req, reply);

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.post('/api/datasets', {
    schema: {
      summary: 'Create a dataset (dataset:create)',
      body: { type: 'object', additionalProperties: false, required: ['id', 'name', 'labels'], properties: { id: { type: 'string', maxLength: 128 }, name: { type: 'string', maxLength: 200 }, labels: { type: 'array', items: { type: 'string', maxLength: 200 }, maxItems: 1000 }, settings: { type: 'object', additionalProperties: false, properties: { quarantineScore: { type: 'number', minimum: 0, maximum: 1 }, twoPersonSeverity: { type: 'string', enum: ['info', 'low', 'medium', 'high', 'critical'] } } } } },
      response: { 201: { type: 'object', properties: { id: { type: 'string' } } }, '4xx': errorSchema },
    },
  }, guard(async (actor, req, reply) => {
    const body = req.body as { id: string; name: string; labels: string[]; settings?: { quarantineScore?: number; twoPersonSeverity?: 'info' | 'low' | 'medium' | 'high' | 'critical' } };
    await service.createDataset(actor, body);
    void reply.status(201);
    return { id: body.id };
  }));

  app.get('/api/datasets/:id', { schema: { summary: 'A dataset at a glance (dataset:read-metadata)', params: idParam } }, guard(async (actor, req) => service.overview(actor, (req.params as { id: string }).id)));

  app.post('/api/datasets/:id/batches', {
    schema: {
      summary: 'Push a batch (batch:push): the raw file as the body, its format by Content-Type',
      params: idParam,
      querystring: { type: 'object', properties: { source: { type: 'string', minLength: 1, maxLength: 200 } }, required: ['source'] },
      headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', maxLength: 200 } } },
    },
  }, guard(async (actor, req, reply) => {
    const format = FORMAT_BY_TYPE[(req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? ''];
    if (format === undefined || !Buffer.isBuffer(req.body)) throw Object.assign(new Error(`send the file with Content-Type ${Object.keys(FORMAT_BY_TYPE).join(', ')}`), { statusCode: 415 });
    const key = req.headers['idempotency-key'];
    const r = await service.ingest(actor, { datasetId: (req.params as { id: string }).id, source: (req.query as { source: string }).source, format, bytes: req.body, ...(typeof key === 'string' ? { idempotencyKey: key } : {}) });
    void reply.status(r.replayed ? 200 : 201);
    return r;
  }));

  app.get('/api/datasets/:id/review', {
    schema: { summary: 'The open review queue (finding:read), most severe first', params: idParam, querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 }, cursor: { type: 'string', maxLength: 500 } } } },
  }, guard(async (actor, req) => {
    const q = req.query as { limit: number; cursor?: string };
    return service.reviewQueue(actor, (req.params as { id: string }).id, { limit: q.limit, ...(q.cursor === undefined ? {} : { cursor: q.cursor }) });
  }));

  app.post('/api/review/:id/decision', {
    schema: {
      summary: 'Decide a review task (review:decide): approve, reject or relabel, with a reason',
      params: idParam,
      body: { type: 'object', additionalProperties: false, required: ['action', 'reason'], properties: { action: { type: 'string', enum: ['approve', 'reject', 'relabel'] }, newLabel: { type: 'string', maxLength: 200 }, reason: { type: 'string', minLength: 1, maxLength: 2000 } } },
    },
  }, guard(async (actor, req) => service.decide(actor, (req.params as { id: string }).id, req.body as { action: 'approve' | 'reject' | 'relabel'; newLabel?: string; reason: string })));

  app.post('/api/datasets/:id/snapshots', { schema: { summary: 'Release the accepted samples as a signed snapshot (snapshot:create)', params: idParam } }, guard(async (actor, req, reply) => {
    const r = await service.release(actor, (req.params as { id: string }).id);
    void reply.status(201);
    return r;
  }));

  await app.ready();
  return app;
}
