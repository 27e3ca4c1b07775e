/**
 * The permission table and the one decision function. Everything here is pure data and pure
 * functions so that a reader can audit who may do what on one screen (docs/access.md copies it).
 */

/** The roles of DESIGN.md, each granted on one dataset or globally. */
export const ROLES = ['admin', 'curator', 'contributor', 'reviewer', 'trainer', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Where a permission applies:
 * - `dataset`: an action on one dataset; a grant on that dataset or a global grant allows it.
 *   Checked without a dataset (an action across all datasets), only a global grant allows it.
 * - `global`: a platform action (users, keys, the access audit list, creating datasets); only a
 *   global grant allows it, so a dataset-scoped admin cannot manage users or rotate keys.
 * - `account`: an action on the caller's own credentials; holding the role on any scope allows it,
 *   because a contributor scoped to one dataset still needs a token to push to it.
 */
export type PermissionScope = 'dataset' | 'global' | 'account';

/** Every permission and its scope. */
export const PERMISSIONS = {
  'dataset:create': 'global',
  'dataset:read-metadata': 'dataset', // name, settings, batch list, counts
  'dataset:configure': 'dataset', // sources, gate thresholds, settings
  'batch:push': 'dataset',
  'report:read': 'dataset', // scan reports: ids, scores, counts; no sample contents
  'finding:read': 'dataset', // findings with evidence, whose previews quote sample contents
  'sample:read': 'dataset', // plaintext sample contents (e.g. quarantined samples under review)
  'review:decide': 'dataset',
  'snapshot:create': 'dataset', // cut, sign and release a snapshot
  'snapshot:pull': 'dataset', // download and decrypt a snapshot's samples
  'log:read': 'dataset', // log entries, checkpoints, proofs, receipts, snapshot manifests
  'grant:read': 'dataset',
  'grant:manage': 'dataset',
  'user:read': 'global',
  'user:manage': 'global', // add, disable and enable principals; set passwords; tokens for others
  'key:rotate': 'global',
  'access:read-events': 'global', // the access audit list (grants, revocations, denied attempts)
  'token:create-own': 'account', // create, list and revoke one's own API tokens
} as const satisfies Record<string, PermissionScope>;
export type Permission = keyof typeof PERMISSIONS;

/** Role → permissions. Deny by default: a permission not listed for a role is not granted by it. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: Object.keys(PERMISSIONS) as Permission[], // everything; global-only ones only from a global grant
  curator: [
    'dataset:create', 'dataset:read-metadata', 'dataset:configure', 'report:read', 'finding:read',
    'sample:read', 'review:decide', 'snapshot:create', 'snapshot:pull', 'log:read', 'grant:read',
    'token:create-own',
  ],
  contributor: ['dataset:read-metadata', 'batch:push', 'report:read', 'log:read', 'token:create-own'],
  reviewer: [
    'dataset:read-metadata', 'report:read', 'finding:read', 'sample:read', 'review:decide', 'log:read',
    'token:create-own',
  ],
  trainer: ['dataset:read-metadata', 'report:read', 'snapshot:pull', 'log:read', 'token:create-own'],
  auditor: [
    'dataset:read-metadata', 'report:read', 'log:read', 'grant:read', 'user:read', 'access:read-events',
    'token:create-own',
  ],
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && Object.hasOwn(PERMISSIONS, value);
}

/** The roles that include a permission, for hints ("ask for one of: curator, admin"). */
export function rolesWith(permission: Permission): Role[] {
  return ROLES.filter((role) => ROLE_PERMISSIONS[role].includes(permission));
}

/** What `decide` needs of a principal. */
export interface DecisionSubject {
  readonly id: string;
  readonly disabled: boolean;
}

/** What `decide` needs of a grant: the role, to whom, and the dataset (null = global). */
export interface ScopedGrant {
  readonly principalId: string;
  readonly role: Role;
  readonly datasetId: string | null;
}

export type DecisionReason =
  | 'granted'
  | 'unknown-permission'
  | 'unknown-principal'
  | 'principal-disabled'
  /** No grant of the principal has a role with this permission. */
  | 'no-grant'
  /** A role with this permission is held, but on other datasets (or only dataset-scoped for a global permission). */
  | 'out-of-scope';

export interface Decision<G extends ScopedGrant = ScopedGrant> {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  /** The grant that allowed it (the dataset grant when both a dataset and a global grant match). */
  readonly matchedGrant?: G;
}

/**
 * Decides whether `subject` may use `permission` on `datasetId` (undefined or null: no dataset)
 * given its grants. Pure: records nothing; `AccessControl.authorize` adds the audit trail.
 */
export function decide<G extends ScopedGrant>(
  subject: DecisionSubject,
  grants: readonly G[],
  permission: string,
  datasetId?: string | null,
): Decision<G> {
  if (!isPermission(permission)) return { allowed: false, reason: 'unknown-permission' };
  if (subject.disabled) return { allowed: false, reason: 'principal-disabled' };
  const scope = PERMISSIONS[permission];
  const holding = grants.filter((g) => g.principalId === subject.id && ROLE_PERMISSIONS[g.role].includes(permission));
  const covering = holding.filter((g) => covers(g, scope, datasetId ?? null));
  const matched = covering.find((g) => g.datasetId !== null) ?? covering[0];
  if (matched !== undefined) return { allowed: true, reason: 'granted', matchedGrant: matched };
  return { allowed: false, reason: holding.length > 0 ? 'out-of-scope' : 'no-grant' };
}

function covers(grant: ScopedGrant, scope: PermissionScope, datasetId: string | null): boolean {
  if (scope === 'account' || grant.datasetId === null) return true;
  if (scope === 'global') return false;
  return datasetId !== null && grant.datasetId === datasetId;
}
