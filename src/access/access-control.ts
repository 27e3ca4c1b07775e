import { AccessError } from './errors.ts';
import { checkDatasetId, checkPrincipalName, checkTokenName, MAX_EVENT_FIELD_LENGTH, newPrincipalId } from './model.ts';
import type { AccessEvent, AccessEventBody, Grant, Principal, PrincipalKind, TokenInfo, TokenRecord } from './model.ts';
import { hashPassword, needsRehash, normalizePassword, verifyDecoy, verifyPassword } from './passwords.ts';
import { decide, isPermission, isRole, PERMISSIONS, rolesWith } from './permissions.ts';
import type { Decision, Permission, Role } from './permissions.ts';
import type { AccessReader, AccessStore, AccessTx, EventQuery } from './store.ts';
import { issueToken, parseToken, secretMatches } from './tokens.ts';

/** Told about every committed access event, in order; the app turns grants and revocations into ledger entries. */
export interface AccessEvents {
  record(event: AccessEvent): void | Promise<void>;
}

export interface AccessControlOptions {
  readonly store: AccessStore;
  /** Told about committed events (optional; the store keeps every event regardless). */
  readonly listener?: AccessEvents;
  /** The clock (default `() => new Date()`); tests pass a fixed one. */
  readonly now?: () => Date;
}

export const DEFAULT_TOKEN_DAYS = 90;
export const MAX_TOKEN_DAYS = 366;
/** `lastUsedAt` is written at most this often per token, so authentication is not a write per request. */
export const LAST_USED_GRANULARITY_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface CreateTokenOptions {
  /** What the token is for, e.g. "ci push" (1–100 printable characters). */
  readonly name: string;
  /** Whose token (a principal name); default the actor. Another principal's token needs user:manage. */
  readonly principal?: string;
  /** Days until it expires: a whole number from 1 to 366, default 90. */
  readonly expiresInDays?: number;
}

export interface CreatedToken {
  /** The token, `tg_<id>_<secret>`: shown once, never stored, never retrievable again. */
  readonly token: string;
  readonly info: TokenInfo;
}

/** Which grant: a role for a principal (by name) on a dataset, or globally when `datasetId` is absent or null. */
export interface GrantRequest {
  readonly principal: string;
  readonly role: Role;
  readonly datasetId?: string | null;
}

export interface GrantListFilter {
  /** Only this principal's grants (by name); one's own grants need no permission. */
  readonly principal?: string;
  /** Only grants that apply to this dataset: its own and the global ones. Absent: all grants. */
  readonly datasetId?: string;
}

/** Handed to a guarded operation inside its transaction. */
interface Guard {
  readonly tx: AccessTx;
  /** The actor as stored now, or undefined when it does not exist. */
  readonly actor: Principal | undefined;
  /** Returns the actor when it may use `permission` on `datasetId`; otherwise the operation is denied. */
  require(permission: Permission, datasetId?: string | null): Promise<Principal>;
  /** Appends an event to the transaction; listeners hear of it once the transaction commits. */
  emit(body: AccessEventBody): Promise<void>;
  readonly at: string;
}

/** Thrown inside a transaction to roll it back; the denied attempt is then recorded on its own. */
class Denied {
  constructor(readonly actor: Principal | undefined, readonly permission: string, readonly datasetId: string | null, readonly decision: Decision) {}
}

/**
 * Access control: principals, passwords, API tokens, grants and the authorisation check, over an
 * `AccessStore`. Every operation on behalf of an actor checks the actor's permission inside the same
 * transaction as its change (so a revocation cannot race it), records denied attempts, and hands
 * committed events to the listener. Rules and the permission table: docs/access.md.
 */
export class AccessControl {
  readonly #store: AccessStore;
  readonly #sink: AccessEvents | undefined;
  readonly #now: () => Date;

  constructor(options: AccessControlOptions) {
    this.#store = options.store;
    this.#sink = options.listener;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Creates the first principal, a user with a global admin grant. Works only while the store has no
   * principal at all (ACCESS_BOOTSTRAP_CLOSED afterwards), so it cannot be used to add a second admin.
   */
  async bootstrapAdmin(name: string, options: { readonly password?: string } = {}): Promise<Principal> {
    checkPrincipalName(name);
    const hash = options.password === undefined ? undefined : await hashPassword(options.password);
    const at = this.#stamp();
    const events: AccessEvent[] = [];
    const admin = await this.#store.transaction(async (tx) => {
      if ((await tx.principalCount()) > 0) {
        throw new AccessError('ACCESS_BOOTSTRAP_CLOSED', 'the access store already has principals', {
          hint: 'sign in as an admin and add users, or grant roles, instead',
        });
      }
      const p: Principal = { id: newPrincipalId(), name, kind: 'user', createdAt: at, disabled: false };
      await tx.insertPrincipal(p);
      events.push(await tx.appendEvent({ kind: 'principal-created', actorId: null, principalId: p.id, principalKind: 'user' }, at));
      await tx.insertGrant({ principalId: p.id, role: 'admin', datasetId: null, grantedAt: at, grantedBy: null });
      events.push(await tx.appendEvent({ kind: 'grant', actorId: null, principalId: p.id, role: 'admin', datasetId: null }, at));
      if (hash !== undefined) {
        await tx.setPassword({ principalId: p.id, hash, setAt: at });
        events.push(await tx.appendEvent({ kind: 'password-set', actorId: null, principalId: p.id }, at));
      }
      return p;
    });
    await this.#notify(events);
    return admin;
  }

  /** Adds a user (user:manage), optionally with a first password. */
  async addUser(actor: Principal, name: string, options: { readonly password?: string } = {}): Promise<Principal> {
    checkPrincipalName(name);
    const hash = options.password === undefined ? undefined : await hashPassword(options.password);
    return this.#guarded(actor, async (g) => {
      const me = await g.require('user:manage');
      const p = await this.#insertPrincipal(g, me, name, 'user');
      if (hash !== undefined) {
        await g.tx.setPassword({ principalId: p.id, hash, setAt: g.at });
        await g.emit({ kind: 'password-set', actorId: me.id, principalId: p.id });
      }
      return p;
    });
  }

  /** Adds a service account (user:manage): a principal for pipelines that signs in with tokens only. */
  async createServiceAccount(actor: Principal, name: string): Promise<Principal> {
    checkPrincipalName(name);
    return this.#guarded(actor, async (g) => this.#insertPrincipal(g, await g.require('user:manage'), name, 'service'));
  }

  /**
   * The names of principals by id, for showing who contributed or decided something to anyone who
   * may already see that it happened (ids are in the log; names are not). Unknown ids are left out.
   */
  async principalNames(ids: readonly string[]): Promise<Map<string, string>> {
    const unique = [...new Set(ids)];
    return this.#store.read(async (r) => {
      const out = new Map<string, string>();
      for (const id of unique) {
        const p = await r.principalById(id);
        if (p !== undefined) out.set(id, p.name);
      }
      return out;
    });
  }

  /** All principals, users and service accounts, by name (user:read). */
  async listUsers(actor: Principal): Promise<Principal[]> {
    return this.#guarded(actor, async (g) => {
      await g.require('user:read');
      return g.tx.principals();
    });
  }

  /** Disables a principal (user:manage): its tokens and password stop working and every check denies it. */
  async disableUser(actor: Principal, name: string): Promise<Principal> {
    return this.#setDisabled(actor, name, true);
  }

  /** Enables a disabled principal again (user:manage). */
  async enableUser(actor: Principal, name: string): Promise<Principal> {
    return this.#setDisabled(actor, name, false);
  }

  /** Sets a user's password (user:manage): first password or a reset. Users change their own with `changePassword`. */
  async setPassword(actor: Principal, name: string, password: string): Promise<void> {
    const hash = await hashPassword(password);
    await this.#guarded(actor, async (g) => {
      const me = await g.require('user:manage');
      const target = await this.#passwordHolder(g.tx, name);
      await g.tx.setPassword({ principalId: target.id, hash, setAt: g.at });
      await g.emit({ kind: 'password-set', actorId: me.id, principalId: target.id });
    });
  }

  /** Changes one's own password; knowing the current one is the authorisation. */
  async changePassword(name: string, current: string, next: string): Promise<void> {
    normalizePassword(next); // reject a weak new password before the slow check of the current one
    const me = await this.verifyPassword(name, current);
    const hash = await hashPassword(next);
    const at = this.#stamp();
    const event = await this.#store.transaction(async (tx) => {
      await tx.setPassword({ principalId: me.id, hash, setAt: at });
      return tx.appendEvent({ kind: 'password-set', actorId: me.id, principalId: me.id }, at);
    });
    await this.#notify([event]);
  }

  /**
   * Returns the enabled user with this name and password, or throws ACCESS_UNAUTHENTICATED; unknown
   * names, service accounts, disabled users and wrong passwords fail alike and take as long.
   */
  async verifyPassword(name: string, password: string): Promise<Principal> {
    const found = await this.#store.read(async (r) => {
      const p = await r.principalByName(name);
      return p === undefined ? undefined : { principal: p, password: await r.password(p.id) };
    });
    const stored = found?.password;
    if (found === undefined || stored === undefined || found.principal.disabled) {
      await verifyDecoy(password);
      throw unauthenticated('wrong name or password', 'check the name and password, or ask an admin to reset the password');
    }
    if (!(await verifyPassword(stored.hash, password))) {
      throw unauthenticated('wrong name or password', 'check the name and password, or ask an admin to reset the password');
    }
    if (needsRehash(stored.hash)) await this.#rehash(found.principal.id, stored.hash, password);
    return found.principal;
  }

  /** Creates an API token and returns it once; only its SHA-256 is stored. */
  async createToken(actor: Principal, options: CreateTokenOptions): Promise<CreatedToken> {
    checkTokenName(options.name);
    const days = options.expiresInDays ?? DEFAULT_TOKEN_DAYS;
    if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS) {
      throw new AccessError('ACCESS_BAD_INPUT', `token lifetime must be 1 to ${MAX_TOKEN_DAYS} whole days, got ${days}`, {
        hint: `pass a number of days from 1 to ${MAX_TOKEN_DAYS}; create a new token before this one expires`,
      });
    }
    const issued = issueToken();
    const info = await this.#guarded(actor, async (g) => {
      const self = options.principal === undefined || options.principal === g.actor?.name;
      const me = await g.require(self ? 'token:create-own' : 'user:manage');
      const owner = self ? me : await this.#principalNamed(g.tx, options.principal ?? '');
      if (owner.disabled) {
        throw new AccessError('ACCESS_BAD_INPUT', `principal ${owner.name} is disabled`, { hint: 'enable the principal first' });
      }
      const expiresAt = new Date(Date.parse(g.at) + days * DAY_MS).toISOString();
      const record: TokenRecord = {
        id: issued.id, principalId: owner.id, name: options.name, createdAt: g.at, createdBy: me.id,
        expiresAt, revokedAt: null, lastUsedAt: null, secretSha256: issued.secretSha256,
      };
      await g.tx.insertToken(record);
      await g.emit({ kind: 'token-created', actorId: me.id, principalId: owner.id, tokenId: record.id, expiresAt });
      return tokenInfo(record);
    });
    return { token: issued.token, info };
  }

  /** Tokens of the actor, or of another principal (user:manage), without secrets or hashes. */
  async listTokens(actor: Principal, options: { readonly principal?: string } = {}): Promise<TokenInfo[]> {
    return this.#guarded(actor, async (g) => {
      const self = options.principal === undefined || options.principal === g.actor?.name;
      const me = await g.require(self ? 'token:create-own' : 'user:manage');
      const owner = self ? me : await this.#principalNamed(g.tx, options.principal ?? '');
      return (await g.tx.tokens(owner.id)).map(tokenInfo);
    });
  }

  /** Revokes a token by id: one's own (token:create-own) or anyone's (user:manage). Revoking twice is a no-op. */
  async revokeToken(actor: Principal, tokenId: string): Promise<TokenInfo> {
    if (!/^[0-9a-f]{24}$/.test(tokenId)) {
      throw new AccessError('ACCESS_BAD_INPUT', 'a token id is 24 hex digits', {
        hint: 'pass the id that token list shows (the part between "tg_" and the secret)',
      });
    }
    return this.#guarded(actor, async (g) => {
      const record = await g.tx.token(tokenId);
      if (record === undefined) {
        throw new AccessError('ACCESS_NOT_FOUND', `no token ${tokenId}`, { hint: 'list tokens to see their ids' });
      }
      const me = await g.require(record.principalId === g.actor?.id ? 'token:create-own' : 'user:manage');
      if (record.revokedAt !== null) return tokenInfo(record);
      const revoked: TokenRecord = { ...record, revokedAt: g.at };
      await g.tx.updateToken(revoked);
      await g.emit({ kind: 'token-revoked', actorId: me.id, principalId: record.principalId, tokenId });
      return tokenInfo(revoked);
    });
  }

  /**
   * The principal a token belongs to. Malformed, unknown, wrong, expired and revoked tokens, and
   * tokens of disabled principals, all give the same ACCESS_UNAUTHENTICATED.
   */
  async authenticate(token: string): Promise<Principal> {
    const presented = parseToken(token);
    const now = this.#now();
    const found = await this.#store.read(async (r) => {
      const record = presented === undefined ? undefined : await r.token(presented.id);
      return { record, principal: record === undefined ? undefined : await r.principalById(record.principalId) };
    });
    const { record, principal } = found;
    const matches = secretMatches(presented?.secret ?? '', record?.secretSha256);
    if (!matches || record === undefined || principal === undefined || principal.disabled
      || record.revokedAt !== null || now.getTime() >= Date.parse(record.expiresAt)) {
      throw unauthenticated('invalid, expired or revoked token', 'create a new token (trainguard token create) or ask an admin for one');
    }
    if (record.lastUsedAt === null || now.getTime() - Date.parse(record.lastUsedAt) >= LAST_USED_GRANULARITY_MS) {
      await this.#store.transaction(async (tx) => {
        const current = await tx.token(record.id);
        if (current !== undefined) await tx.updateToken({ ...current, lastUsedAt: now.toISOString() });
      });
    }
    return principal;
  }

  /**
   * Grants a role (grant:manage on that dataset; a global grant needs grant:manage globally).
   * Granting what is already granted returns the existing grant and records nothing.
   */
  async grant(actor: Principal, request: GrantRequest): Promise<Grant> {
    const { name, role, datasetId } = checkGrantRequest(request);
    return this.#guarded(actor, async (g) => {
      const me = await g.require('grant:manage', datasetId);
      const target = await this.#principalNamed(g.tx, name);
      const grant: Grant = { principalId: target.id, role, datasetId, grantedAt: g.at, grantedBy: me.id };
      if (!(await g.tx.insertGrant(grant))) {
        const existing = await g.tx.grants({ principalId: target.id, role, datasetId });
        return existing[0] ?? grant;
      }
      await g.emit({ kind: 'grant', actorId: me.id, principalId: target.id, role, datasetId });
      return grant;
    });
  }

  /**
   * Revokes a grant (same permission as granting); ACCESS_NOT_FOUND when there is no such grant, and
   * ACCESS_LAST_ADMIN when it would leave no enabled global admin.
   */
  async revoke(actor: Principal, request: GrantRequest): Promise<Grant> {
    const { name, role, datasetId } = checkGrantRequest(request);
    return this.#guarded(actor, async (g) => {
      const me = await g.require('grant:manage', datasetId);
      const target = await this.#principalNamed(g.tx, name);
      const [existing] = await g.tx.grants({ principalId: target.id, role, datasetId });
      if (existing === undefined || !(await g.tx.deleteGrant(existing))) {
        throw new AccessError('ACCESS_NOT_FOUND', `${name} has no ${role} grant ${scopeText(datasetId)}`, {
          hint: 'list the grants to see what is granted',
        });
      }
      await assertAdminRemains(g.tx);
      await g.emit({ kind: 'revoke', actorId: me.id, principalId: target.id, role, datasetId });
      return existing;
    });
  }

  /** Grants, in the order made: one's own (no permission needed), a dataset's (grant:read there), or all (grant:read globally). */
  async listGrants(actor: Principal, filter: GrantListFilter = {}): Promise<Grant[]> {
    if (filter.datasetId !== undefined) checkDatasetId(filter.datasetId);
    return this.#guarded(actor, async (g) => {
      const own = g.actor !== undefined && !g.actor.disabled && filter.principal === g.actor.name;
      if (!own) await g.require('grant:read', filter.datasetId ?? null);
      const principalId = filter.principal === undefined ? undefined : (await this.#principalNamed(g.tx, filter.principal)).id;
      const grants = await g.tx.grants(principalId === undefined ? {} : { principalId });
      return filter.datasetId === undefined ? grants : grants.filter((x) => x.datasetId === null || x.datasetId === filter.datasetId);
    });
  }

  /**
   * Decides whether `principal` (as stored now: a disabled flag or a revoked grant takes effect at
   * once) may use `permission` on `datasetId`. A denial is recorded as a `denied` event.
   */
  async authorize(principal: Principal, permission: Permission, datasetId?: string | null): Promise<Decision<Grant>> {
    const decision = await this.#store.read((r) => decideStored(r, principal.id, permission, datasetId ?? null));
    if (!decision.allowed) await this.#recordDenied(principal.id, permission, datasetId ?? null, decision);
    return decision;
  }

  /** `authorize`, throwing ACCESS_DENIED (with a hint naming the roles that would allow it) when denied. */
  async assertAllowed(principal: Principal, permission: Permission, datasetId?: string | null): Promise<Grant> {
    const decision = await this.authorize(principal, permission, datasetId);
    if (decision.matchedGrant === undefined) throw denied(principal, permission, datasetId ?? null, decision);
    return decision.matchedGrant;
  }

  /** The access audit list: committed events by sequence number (access:read-events). */
  async events(actor: Principal, query: EventQuery = {}): Promise<AccessEvent[]> {
    return this.#guarded(actor, async (g) => {
      await g.require('access:read-events');
      return g.tx.events(query);
    });
  }

  async #setDisabled(actor: Principal, name: string, disabled: boolean): Promise<Principal> {
    return this.#guarded(actor, async (g) => {
      const me = await g.require('user:manage');
      const target = await this.#principalNamed(g.tx, name);
      if (target.disabled === disabled) return target;
      const changed: Principal = { ...target, disabled };
      await g.tx.updatePrincipal(changed);
      if (disabled) await assertAdminRemains(g.tx);
      await g.emit({ kind: disabled ? 'principal-disabled' : 'principal-enabled', actorId: me.id, principalId: target.id });
      return changed;
    });
  }

  async #insertPrincipal(g: Guard, me: Principal, name: string, kind: PrincipalKind): Promise<Principal> {
    const p: Principal = { id: newPrincipalId(), name, kind, createdAt: g.at, disabled: false };
    await g.tx.insertPrincipal(p);
    await g.emit({ kind: 'principal-created', actorId: me.id, principalId: p.id, principalKind: kind });
    return p;
  }

  async #principalNamed(reader: AccessReader, name: string): Promise<Principal> {
    const p = await reader.principalByName(name);
    if (p === undefined) {
      throw new AccessError('ACCESS_NOT_FOUND', `no principal named ${JSON.stringify(name.slice(0, 80))}`, {
        hint: 'list users to see the names (trainguard user list)',
      });
    }
    return p;
  }

  async #passwordHolder(reader: AccessReader, name: string): Promise<Principal> {
    const p = await this.#principalNamed(reader, name);
    if (p.kind !== 'user') {
      throw new AccessError('ACCESS_BAD_INPUT', `${name} is a service account; service accounts sign in with tokens only`, {
        hint: 'create a token for it instead',
      });
    }
    return p;
  }

  /** Upgrades a hash made under weaker parameters, unless the password changed meanwhile. */
  async #rehash(principalId: string, old: string, password: string): Promise<void> {
    const hash = await hashPassword(password);
    await this.#store.transaction(async (tx) => {
      const current = await tx.password(principalId);
      if (current?.hash === old) await tx.setPassword({ principalId, hash, setAt: current.setAt });
    });
  }

  /**
   * Runs `fn` in one transaction with the actor's permission checks. A denial rolls the transaction
   * back and is then recorded as its own event; events of a committed transaction go to the listener.
   */
  async #guarded<T>(actorRef: Principal, fn: (g: Guard) => Promise<T>): Promise<T> {
    const at = this.#stamp();
    let events: AccessEvent[] = [];
    let result: T;
    try {
      result = await this.#store.transaction(async (tx) => {
        events = [];
        const actor = await tx.principalById(actorRef.id);
        const guard: Guard = {
          tx,
          actor,
          at,
          require: async (permission, datasetId = null) => {
            const decision = actor === undefined ? unknownPrincipal() : decide(actor, await tx.grants({ principalId: actor.id }), permission, datasetId);
            if (actor === undefined || !decision.allowed) throw new Denied(actor, permission, datasetId, decision);
            return actor;
          },
          emit: async (body) => {
            events.push(await tx.appendEvent(body, at));
          },
        };
        return fn(guard);
      });
    } catch (err) {
      if (!(err instanceof Denied)) throw err;
      await this.#recordDenied(actorRef.id, err.permission, err.datasetId, err.decision);
      throw denied(err.actor ?? actorRef, err.permission, err.datasetId, err.decision);
    }
    await this.#notify(events);
    return result;
  }

  async #recordDenied(principalId: string, permission: string, datasetId: string | null, decision: Decision): Promise<void> {
    if (decision.reason === 'granted') return;
    const reason = decision.reason;
    const at = this.#stamp();
    const event = await this.#store.transaction((tx) =>
      tx.appendEvent({ kind: 'denied', principalId: cut(principalId), permission: cut(permission), datasetId: datasetId === null ? null : cut(datasetId), reason }, at));
    await this.#notify([event]);
  }

  /** Hands committed events to the listener in order; a failure names the first event not delivered. */
  async #notify(events: readonly AccessEvent[]): Promise<void> {
    if (this.#sink === undefined) return;
    for (const event of events) {
      try {
        await this.#sink.record(event);
      } catch (err) {
        throw new AccessError('ACCESS_EVENT_SINK_FAILED', `access event ${event.seq} (${event.kind}) is committed, but its listener failed: ${(err as Error).message}`, {
          cause: err,
          hint: `the change is saved; deliver the events from seq ${event.seq} on again (events({ afterSeq: ${event.seq - 1} }))`,
        });
      }
    }
  }

  #stamp(): string {
    return this.#now().toISOString();
  }
}

/** The decision for a stored principal; an id that is not in the store is denied. */
async function decideStored(reader: AccessReader, principalId: string, permission: string, datasetId: string | null): Promise<Decision<Grant>> {
  if (!isPermission(permission)) return { allowed: false, reason: 'unknown-permission' };
  const principal = await reader.principalById(principalId);
  if (principal === undefined) return unknownPrincipal();
  return decide(principal, await reader.grants({ principalId }), permission, datasetId);
}

function unknownPrincipal(): Decision<Grant> {
  return { allowed: false, reason: 'unknown-principal' };
}

/** Refuses a change that would leave no enabled principal with a global admin grant (nobody could manage users again). */
async function assertAdminRemains(tx: AccessTx): Promise<void> {
  for (const g of await tx.grants({ role: 'admin', datasetId: null })) {
    if ((await tx.principalById(g.principalId))?.disabled === false) return;
  }
  throw new AccessError('ACCESS_LAST_ADMIN', 'this would leave no enabled global admin', {
    hint: 'grant admin globally to another user first',
  });
}

function checkGrantRequest(request: GrantRequest): { name: string; role: Role; datasetId: string | null } {
  checkPrincipalName(request.principal);
  if (!isRole(request.role)) {
    throw new AccessError('ACCESS_BAD_INPUT', `unknown role ${JSON.stringify(String(request.role).slice(0, 40))}`, {
      hint: 'roles: admin, curator, contributor, reviewer, trainer, auditor',
    });
  }
  const datasetId = request.datasetId ?? null;
  if (datasetId !== null) checkDatasetId(datasetId);
  return { name: request.principal, role: request.role, datasetId };
}

function tokenInfo(record: TokenRecord): TokenInfo {
  const { secretSha256: _hash, ...info } = record;
  return info;
}

function scopeText(datasetId: string | null): string {
  return datasetId === null ? 'globally' : `on dataset ${datasetId}`;
}

function cut(text: string): string {
  return text.length <= MAX_EVENT_FIELD_LENGTH ? text : text.slice(0, MAX_EVENT_FIELD_LENGTH);
}

function unauthenticated(message: string, hint: string): AccessError {
  return new AccessError('ACCESS_UNAUTHENTICATED', message, { hint });
}

function denied(principal: Principal, permission: string, datasetId: string | null, decision: Decision): AccessError {
  const what = `${principal.name} may not ${permission.slice(0, MAX_EVENT_FIELD_LENGTH)}${datasetId === null ? '' : ` on dataset ${datasetId.slice(0, MAX_EVENT_FIELD_LENGTH)}`}`;
  return new AccessError('ACCESS_DENIED', `${what} (${decision.reason})`, { hint: deniedHint(permission, datasetId, decision) });
}

function deniedHint(permission: string, datasetId: string | null, decision: Decision): string {
  if (decision.reason === 'principal-disabled') return 'this principal is disabled; ask an admin to enable it';
  if (decision.reason === 'unknown-principal') return 'this principal does not exist in the access store; sign in again';
  if (!isPermission(permission)) return 'this permission does not exist; see docs/access.md for the permission table';
  const roles = rolesWith(permission).join(', ');
  if (PERMISSIONS[permission] === 'global') return `this needs a global grant of one of: ${roles}; ask a global admin`;
  if (PERMISSIONS[permission] === 'account') return `this needs any grant of one of: ${roles}; ask an admin`;
  return datasetId === null
    ? `across all datasets this needs a global grant of one of: ${roles}`
    : `ask an admin of dataset ${datasetId} for one of: ${roles}`;
}
