import { z } from 'zod';
import { DATASET_ID, MAX_EVENT_FIELD_LENGTH, PRINCIPAL_ID, PRINCIPAL_NAME, TOKEN_NAME_MAX } from './model.ts';
import { ROLES } from './permissions.ts';
import type { AccessState } from './state.ts';

/**
 * The access store file (`access.json`), validated on every load: a file that does not parse, does
 * not match, or whose records contradict each other (dangling ids, duplicate names, a gap in event
 * numbers) is reported as damaged instead of being used or reset.
 */
export const ACCESS_FILE_FORMAT = 'trainguard-access/1';

const iso = z.iso.datetime();
const principalId = z.string().regex(PRINCIPAL_ID);
const datasetId = z.string().regex(DATASET_ID).nullable();
const role = z.enum(ROLES);
const principalKind = z.enum(['user', 'service']);

const principal = z.strictObject({
  id: principalId,
  name: z.string().regex(PRINCIPAL_NAME),
  kind: principalKind,
  createdAt: iso,
  disabled: z.boolean(),
});

const token = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{24}$/),
  principalId,
  name: z.string().min(1).max(TOKEN_NAME_MAX),
  createdAt: iso,
  createdBy: principalId,
  expiresAt: iso,
  revokedAt: iso.nullable(),
  lastUsedAt: iso.nullable(),
  secretSha256: z.string().regex(/^[0-9a-f]{64}$/),
});

const password = z.strictObject({
  principalId,
  hash: z.string().startsWith('$argon2id$').max(512),
  setAt: iso,
});

const grant = z.strictObject({
  principalId,
  role,
  datasetId,
  grantedAt: iso,
  grantedBy: principalId.nullable(),
});

const stamp = { seq: z.number().int().positive(), at: iso };
const event = z.discriminatedUnion('kind', [
  z.strictObject({ ...stamp, kind: z.literal('principal-created'), actorId: principalId.nullable(), principalId, principalKind }),
  z.strictObject({ ...stamp, kind: z.literal('principal-disabled'), actorId: principalId, principalId }),
  z.strictObject({ ...stamp, kind: z.literal('principal-enabled'), actorId: principalId, principalId }),
  z.strictObject({ ...stamp, kind: z.literal('password-set'), actorId: principalId.nullable(), principalId }),
  z.strictObject({ ...stamp, kind: z.literal('token-created'), actorId: principalId, principalId, tokenId: z.string(), expiresAt: iso }),
  z.strictObject({ ...stamp, kind: z.literal('token-revoked'), actorId: principalId, principalId, tokenId: z.string() }),
  z.strictObject({ ...stamp, kind: z.literal('grant'), actorId: principalId.nullable(), principalId, role, datasetId }),
  z.strictObject({ ...stamp, kind: z.literal('revoke'), actorId: principalId.nullable(), principalId, role, datasetId }),
  z.strictObject({
    ...stamp,
    kind: z.literal('denied'),
    // Not principalId: a denied check may name a principal that never existed in this store.
    principalId: z.string().max(MAX_EVENT_FIELD_LENGTH),
    permission: z.string().max(MAX_EVENT_FIELD_LENGTH),
    datasetId: z.string().max(MAX_EVENT_FIELD_LENGTH).nullable(),
    reason: z.enum(['unknown-permission', 'unknown-principal', 'principal-disabled', 'no-grant', 'out-of-scope']),
  }),
]);

export const accessFileSchema = z
  .strictObject({
    format: z.literal(ACCESS_FILE_FORMAT),
    principals: z.array(principal),
    tokens: z.array(token),
    passwords: z.array(password),
    grants: z.array(grant),
    events: z.array(event),
  })
  .superRefine((file, ctx) => {
    for (const problem of consistencyProblems(file)) ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
  });

interface Problem {
  readonly message: string;
  readonly path: (string | number)[];
}

/** Relations that a database would hold with keys; the file has to be checked for them. */
function consistencyProblems(file: z.infer<typeof accessFileSchema>): Problem[] {
  const problems: Problem[] = [];
  const ids = new Map<string, 'user' | 'service'>();
  const names = new Set<string>();
  file.principals.forEach((p, i) => {
    if (ids.has(p.id)) problems.push({ message: `duplicate principal id ${p.id}`, path: ['principals', i, 'id'] });
    if (names.has(p.name)) problems.push({ message: `duplicate principal name ${p.name}`, path: ['principals', i, 'name'] });
    ids.set(p.id, p.kind);
    names.add(p.name);
  });
  const known = (id: string | null): boolean => id === null || ids.has(id);
  const tokenIds = new Set<string>();
  file.tokens.forEach((t, i) => {
    if (tokenIds.has(t.id)) problems.push({ message: `duplicate token id ${t.id}`, path: ['tokens', i, 'id'] });
    tokenIds.add(t.id);
    if (!known(t.principalId) || !known(t.createdBy)) problems.push({ message: 'token of an unknown principal', path: ['tokens', i] });
  });
  const withPassword = new Set<string>();
  file.passwords.forEach((p, i) => {
    if (ids.get(p.principalId) !== 'user') problems.push({ message: 'password of an unknown principal or a service account', path: ['passwords', i] });
    if (withPassword.has(p.principalId)) problems.push({ message: 'two passwords for one principal', path: ['passwords', i] });
    withPassword.add(p.principalId);
  });
  const grantKeys = new Set<string>();
  file.grants.forEach((g, i) => {
    const key = JSON.stringify([g.principalId, g.role, g.datasetId]);
    if (grantKeys.has(key)) problems.push({ message: 'duplicate grant', path: ['grants', i] });
    grantKeys.add(key);
    if (!known(g.principalId) || !known(g.grantedBy)) problems.push({ message: 'grant to or by an unknown principal', path: ['grants', i] });
  });
  file.events.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push({ message: `event number ${e.seq} where ${i + 1} was expected`, path: ['events', i, 'seq'] });
  });
  return problems;
}

/** The file's records as a store state (records frozen, as `StateAccess` expects). */
export function stateFromFile(file: z.infer<typeof accessFileSchema>): AccessState {
  return {
    principals: file.principals.map((r) => Object.freeze(r)),
    tokens: file.tokens.map((r) => Object.freeze(r)),
    passwords: file.passwords.map((r) => Object.freeze(r)),
    grants: file.grants.map((r) => Object.freeze(r)),
    events: file.events.map((r) => Object.freeze(r)),
  };
}
