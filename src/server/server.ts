/**
 * The HTTP API (fastify): JSON in and out, an OpenAPI document at /openapi.json, bearer-token
 * auth on every /api route, and every route authorised by role inside the use case it calls — the
 * server holds no rules of its own. Errors are `{ code, message, hint? }` with the status the
 * code's kind calls for.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { isTrainGuardError } from '../core/index.ts';
import { BATCH_LIMITS, TOOL_VERSION, parseToken, type AccessControl, type Principal, type Role, type Service } from '../app/index.ts';
import { serveWeb } from './web.ts';

export interface ServerOptions {
  readonly service: Service;
  readonly access: AccessControl;
  /** The built web UI (web/dist) to serve at `/`; none: API only. */
  readonly webRoot?: string;
  /** One-time sign-in codes (`serve --demo`): each is exchanged for a session token once, then forgotten. */
  readonly signInCodes?: Map<string, Principal>;
}

/** Web sessions are API tokens that live a day; each sign-in is an access event in the log. */
const SESSION_DAYS = 1;

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
  // A folder of images (one subfolder per label, or a labels.csv) as an archive.
  'application/zip': 'images',
  'application/x-tar': 'images',
  'application/gzip': 'images',
};

const errorSchema = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' } }, required: ['code', 'message'] } as const;
const idParam = { type: 'object', properties: { id: { type: 'string', maxLength: 128 } }, required: ['id'] } as const;

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { service, access } = options;
  const codes = options.signInCodes ?? new Map<string, Principal>();
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

  const session = async (principal: Principal, reply: FastifyReply): Promise<{ token: string; expiresAt: string; principal: { id: string; name: string } }> => {
    const created = await access.createToken(principal, { name: 'web session', expiresInDays: SESSION_DAYS });
    void reply.status(201);
    return { token: created.token, expiresAt: created.info.expiresAt, principal: { id: principal.id, name: principal.name } };
  };
  const nameBody = { type: 'string', minLength: 1, maxLength: 64 } as const;

  app.post('/api/session', {
    schema: { summary: 'Sign in with name and password: a session token for a day', security: [], body: { type: 'object', additionalProperties: false, required: ['name', 'password'], properties: { name: nameBody, password: { type: 'string', minLength: 1, maxLength: 1024 } } } },
  }, async (req, reply) => {
    const body = req.body as { name: string; password: string };
    return session(await access.verifyPassword(body.name, body.password), reply);
  });

  app.post('/api/session/code', {
    schema: { summary: 'Sign in with a one-time code (printed by `trainguard serve --demo`)', security: [], body: { type: 'object', additionalProperties: false, required: ['code'], properties: { code: { type: 'string', minLength: 1, maxLength: 200 } } } },
  }, async (req, reply) => {
    const code = (req.body as { code: string }).code;
    const principal = codes.get(code);
    // Consumed before use: the same code never signs in twice, even when two requests race.
    codes.delete(code);
    if (principal === undefined) throw Object.assign(new Error('this sign-in code is unknown or was already used'), { statusCode: 401 });
    return session(principal, reply);
  });

  app.delete('/api/session', { schema: { summary: 'Sign out: revokes the token this request carries' } }, guard(async (actor, req) => {
    const presented = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    await access.revokeToken(actor, parseToken(presented)?.id ?? '');
    return { signedOut: true };
  }));

  app.get('/api/me', { schema: { summary: 'Who the token belongs to, and their grants' } }, guard(async (actor) => ({
    id: actor.id,
    name: actor.name,
    grants: (await access.listGrants(actor, { principal: actor.name })).map((g) => ({ role: g.role, datasetId: g.datasetId })),
  })));

  app.get('/api/datasets', { schema: { summary: 'The datasets the caller may read, with counts' } }, guard(async (actor) => ({ datasets: await service.listDatasets(actor) })));

  const sampleParams = { type: 'object', properties: { id: { type: 'string', maxLength: 128 }, sampleId: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, required: ['id', 'sampleId'] } as const;
  type SampleParams = { id: string; sampleId: string };

  app.get('/api/datasets/:id/samples/:sampleId', { schema: { summary: "A sample's content and status (sample:read)", params: sampleParams } }, guard(async (actor, req) => {
    const p = req.params as SampleParams;
    const s = await service.sample(actor, p.id, p.sampleId);
    return { ...s, ...(s.image === undefined ? {} : { image: { ...s.image, url: `/api/datasets/${encodeURIComponent(p.id)}/samples/${p.sampleId}/image` } }) };
  }));

  app.get('/api/datasets/:id/samples/:sampleId/image', { schema: { summary: "A sample's image as PNG, as the detectors saw it (sample:read)", params: sampleParams } }, guard(async (actor, req, reply) => {
    const p = req.params as SampleParams;
    const png = await service.sampleImage(actor, p.id, p.sampleId);
    void reply.type('image/png').header('cache-control', 'private, max-age=3600');
    return png;
  }));

  app.get('/api/datasets/:id/samples/:sampleId/provenance', { schema: { summary: "A sample's batch, source, contributor, scans and decisions, with verified log receipts (log:read)", params: sampleParams } }, guard(async (actor, req) => {
    const p = req.params as SampleParams;
    return service.provenance(actor, p.id, p.sampleId);
  }));

  app.get('/api/datasets/:id/snapshots', { schema: { summary: "A dataset's snapshots, newest first", params: idParam } }, guard(async (actor, req) => ({ snapshots: await service.snapshots(actor, (req.params as { id: string }).id) })));

  app.get('/api/snapshots/:id', { schema: { summary: "A snapshot's signed files, base64 (snapshot:pull): what `trainguard verify` reads", params: idParam } }, guard(async (actor, req) => {
    const r = await service.snapshotFiles(actor, (req.params as { id: string }).id);
    return { snapshot: r.snapshot, dataFile: r.dataFile, files: Object.fromEntries(Object.entries(r.files).map(([k, v]) => [k, v.toString('base64')])) };
  }));

  app.get('/api/snapshots/:id/data', { schema: { summary: "A snapshot's release file, decrypted (snapshot:pull)", params: idParam } }, guard(async (actor, req, reply) => {
    const r = await service.snapshotData(actor, (req.params as { id: string }).id);
    void reply.type('application/octet-stream').header('x-trainguard-file-name', r.name);
    return Buffer.from(r.bytes);
  }));

  app.get('/api/health', { schema: { summary: 'Liveness, the database kind and scan jobs by state (no token needed)', security: [] } }, async () => ({ status: 'ok', ...(await service.health()) }));
  app.get('/api/log/key', { schema: { summary: "The provenance log's public key (a C2SP note verifier key)" } }, guard(async () => ({ vkey: await service.logPublicKey() })));

  // Principals, tokens and grants: the same rules as the CLI's admin commands (AccessControl decides).
  app.get('/api/users', { schema: { summary: 'Principals (user:read)' } }, guard(async (actor) => ({ users: await access.listUsers(actor) })));
  app.post('/api/users', {
    schema: { summary: 'Add a user (user:manage)', body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: nameBody, password: { type: 'string', maxLength: 1024 } } } },
  }, guard(async (actor, req, reply) => {
    const body = req.body as { name: string; password?: string };
    const user = await access.addUser(actor, body.name, body.password === undefined ? {} : { password: body.password });
    void reply.status(201);
    return user;
  }));
  app.get('/api/tokens', { schema: { summary: "The caller's tokens (or another principal's, user:manage)", querystring: { type: 'object', properties: { principal: nameBody } } } }, guard(async (actor, req) => {
    const q = req.query as { principal?: string };
    return { tokens: await access.listTokens(actor, q.principal === undefined ? {} : { principal: q.principal }) };
  }));
  app.post('/api/tokens', {
    schema: { summary: 'Create an API token; returned once', body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, principal: nameBody, days: { type: 'integer', minimum: 1, maximum: 366 } } } },
  }, guard(async (actor, req, reply) => {
    const body = req.body as { name: string; principal?: string; days?: number };
    const created = await access.createToken(actor, { name: body.name, ...(body.principal === undefined ? {} : { principal: body.principal }), ...(body.days === undefined ? {} : { expiresInDays: body.days }) });
    void reply.status(201);
    return created;
  }));
  app.delete('/api/tokens/:id', { schema: { summary: 'Revoke a token', params: idParam } }, guard(async (actor, req) => access.revokeToken(actor, (req.params as { id: string }).id)));
  const grantBody = { type: 'object', additionalProperties: false, required: ['principal', 'role'], properties: { principal: nameBody, role: { type: 'string', enum: ['admin', 'curator', 'contributor', 'reviewer', 'trainer', 'auditor'] }, dataset: { type: 'string', maxLength: 128 } } } as const;
  type GrantBody = { principal: string; role: Role; dataset?: string };
  const grantRequest = (b: GrantBody) => ({ principal: b.principal, role: b.role, datasetId: b.dataset ?? null });
  app.get('/api/grants', { schema: { summary: 'Grants (grant:read), or your own', querystring: { type: 'object', properties: { principal: nameBody, dataset: { type: 'string', maxLength: 128 } } } } }, guard(async (actor, req) => {
    const q = req.query as { principal?: string; dataset?: string };
    return { grants: await access.listGrants(actor, { ...(q.principal === undefined ? {} : { principal: q.principal }), ...(q.dataset === undefined ? {} : { datasetId: q.dataset }) }) };
  }));
  app.post('/api/grants', { schema: { summary: 'Grant a role, globally or on one dataset (grant:manage)', body: grantBody } }, guard(async (actor, req, reply) => {
    const g = await access.grant(actor, grantRequest(req.body as GrantBody));
    void reply.status(201);
    return g;
  }));
  app.delete('/api/grants', { schema: { summary: 'Revoke a role (grant:manage)', body: grantBody } }, guard(async (actor, req) => access.revoke(actor, grantRequest(req.body as GrantBody))));

  if (options.webRoot !== undefined) serveWeb(app, options.webRoot);

  await app.ready();
  return app;
}
