import { setTimeout as delay } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Selectable, Transaction } from 'kysely';
import { DEADLOCK_DETECTED, SERIALIZATION_FAILURE, StoreError, UNIQUE_VIOLATION, sqlState, translateWriteError } from './errors.ts';
import type { Executor } from './executor.ts';
import { toJson } from './schema.ts';
import type { AccessEventsTable, AccessGrantsTable, AccessPrincipalsTable, AccessTokensTable, Database } from './schema.ts';

// The record shapes of src/access/model.ts and the interface of src/access/store.ts, copied:
// store may not import access (docs/architecture.md). `DbAccessStore` satisfies `AccessStore`
// structurally; keep these in step with src/access when either changes.

export type AccessRole = 'admin' | 'curator' | 'contributor' | 'reviewer' | 'trainer' | 'auditor';
type PrincipalKind = 'user' | 'service';
type DeniedReason = 'unknown-permission' | 'unknown-principal' | 'principal-disabled' | 'no-grant' | 'out-of-scope';

export interface AccessPrincipal {
  readonly id: string;
  readonly name: string;
  readonly kind: PrincipalKind;
  readonly createdAt: string;
  readonly disabled: boolean;
}

export interface AccessGrant {
  readonly principalId: string;
  readonly role: AccessRole;
  readonly datasetId: string | null;
  readonly grantedAt: string;
  readonly grantedBy: string | null;
}

export interface AccessTokenRecord {
  readonly id: string;
  readonly principalId: string;
  readonly name: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
  readonly secretSha256: string;
}

export interface AccessPasswordRecord {
  readonly principalId: string;
  readonly hash: string;
  readonly setAt: string;
}

export type AccessEventBody =
  | { readonly kind: 'principal-created'; readonly actorId: string | null; readonly principalId: string; readonly principalKind: PrincipalKind }
  | { readonly kind: 'principal-disabled' | 'principal-enabled'; readonly actorId: string; readonly principalId: string }
  | { readonly kind: 'password-set'; readonly actorId: string | null; readonly principalId: string }
  | { readonly kind: 'token-created'; readonly actorId: string; readonly principalId: string; readonly tokenId: string; readonly expiresAt: string }
  | { readonly kind: 'token-revoked'; readonly actorId: string; readonly principalId: string; readonly tokenId: string }
  | { readonly kind: 'grant' | 'revoke'; readonly actorId: string | null; readonly principalId: string; readonly role: AccessRole; readonly datasetId: string | null }
  | { readonly kind: 'denied'; readonly principalId: string; readonly permission: string; readonly datasetId: string | null; readonly reason: DeniedReason };

export type AccessEventKind = AccessEventBody['kind'];
export type AccessEvent = AccessEventBody & { readonly seq: number; readonly at: string };

export interface AccessGrantFilter {
  readonly principalId?: string;
  readonly datasetId?: string | null;
  readonly role?: AccessRole;
}

export interface AccessEventQuery {
  readonly afterSeq?: number;
  readonly kinds?: readonly AccessEventKind[];
  readonly limit?: number;
}

export interface AccessGrantKey {
  readonly principalId: string;
  readonly role: AccessRole;
  readonly datasetId: string | null;
}

/** Attempts of one access transaction before giving up with STORE_BUSY. */
const MAX_ATTEMPTS = 8;

function iso(d: Date): string {
  return d.toISOString();
}

function isoOrNull(d: Date | null): string | null {
  return d === null ? null : d.toISOString();
}

function toPrincipal(row: Selectable<AccessPrincipalsTable>): AccessPrincipal {
  return { id: row.id, name: row.name, kind: row.kind, createdAt: iso(row.created_at), disabled: row.disabled };
}

function toToken(row: Selectable<AccessTokensTable>): AccessTokenRecord {
  return {
    id: row.id,
    principalId: row.principal_id,
    name: row.name,
    createdAt: iso(row.created_at),
    createdBy: row.created_by,
    expiresAt: iso(row.expires_at),
    revokedAt: isoOrNull(row.revoked_at),
    lastUsedAt: isoOrNull(row.last_used_at),
    secretSha256: row.secret_sha256,
  };
}

function toGrant(row: Selectable<AccessGrantsTable>): AccessGrant {
  return {
    principalId: row.principal_id,
    role: row.role as AccessRole,
    datasetId: row.dataset_id,
    grantedAt: iso(row.granted_at),
    grantedBy: row.granted_by,
  };
}

function toEvent(row: Selectable<AccessEventsTable>): AccessEvent {
  return { ...(row.body as AccessEventBody), seq: row.seq, at: iso(row.at) };
}

/** Reads access records on one transaction. */
class DbAccessReader {
  constructor(protected readonly db: Executor) {}

  async principalById(id: string): Promise<AccessPrincipal | undefined> {
    const row = await this.db.selectFrom('access_principals').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toPrincipal(row);
  }

  async principalByName(name: string): Promise<AccessPrincipal | undefined> {
    const row = await this.db.selectFrom('access_principals').selectAll().where('name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : toPrincipal(row);
  }

  /** All principals by name, in code-unit order like the memory store. */
  async principals(): Promise<AccessPrincipal[]> {
    const rows = await this.db.selectFrom('access_principals').selectAll().orderBy(sql`name collate "C"`).execute();
    return rows.map(toPrincipal);
  }

  async principalCount(): Promise<number> {
    const row = await this.db.selectFrom('access_principals').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return row.n;
  }

  async token(id: string): Promise<AccessTokenRecord | undefined> {
    const row = await this.db.selectFrom('access_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toToken(row);
  }

  async tokens(principalId?: string): Promise<AccessTokenRecord[]> {
    let q = this.db.selectFrom('access_tokens').selectAll();
    if (principalId !== undefined) q = q.where('principal_id', '=', principalId);
    return (await q.orderBy('ord').execute()).map(toToken);
  }

  async password(principalId: string): Promise<AccessPasswordRecord | undefined> {
    const row = await this.db.selectFrom('access_passwords').selectAll().where('principal_id', '=', principalId).executeTakeFirst();
    return row === undefined ? undefined : { principalId: row.principal_id, hash: row.hash, setAt: iso(row.set_at) };
  }

  async grants(filter: AccessGrantFilter = {}): Promise<AccessGrant[]> {
    let q = this.db.selectFrom('access_grants').selectAll();
    if (filter.principalId !== undefined) q = q.where('principal_id', '=', filter.principalId);
    if (filter.role !== undefined) q = q.where('role', '=', filter.role);
    if (filter.datasetId === null) q = q.where('dataset_id', 'is', null);
    else if (filter.datasetId !== undefined) q = q.where('dataset_id', '=', filter.datasetId);
    return (await q.orderBy('ord').execute()).map(toGrant);
  }

  async events(query: AccessEventQuery = {}): Promise<AccessEvent[]> {
    let q = this.db.selectFrom('access_events').selectAll().where('seq', '>', query.afterSeq ?? 0);
    if (query.kinds !== undefined) {
      if (query.kinds.length === 0) return [];
      q = q.where('kind', 'in', [...query.kinds]);
    }
    if (query.limit !== undefined) q = q.limit(Math.max(0, Math.floor(query.limit)));
    return (await q.orderBy('seq').execute()).map(toEvent);
  }
}

/** Reads and writes access records inside one SERIALIZABLE transaction. */
class DbAccessTx extends DbAccessReader {
  /** Adds a principal; STORE_CONFLICT when its name or id is taken. */
  async insertPrincipal(principal: AccessPrincipal): Promise<void> {
    // Read first: a failed INSERT would abort the whole PostgreSQL transaction, and under
    // SERIALIZABLE the read turns a concurrent insert of the same name into a retryable 40001.
    const taken = await this.db.selectFrom('access_principals').select('id')
      .where((eb) => eb.or([eb('name', '=', principal.name), eb('id', '=', principal.id)])).executeTakeFirst();
    if (taken !== undefined) {
      throw new StoreError('STORE_CONFLICT', `a principal named ${principal.name} already exists`, { hint: 'principal names are unique; choose another name' });
    }
    await this.write(`principal ${principal.name}`, () => this.db.insertInto('access_principals').values({
      id: principal.id, name: principal.name, kind: principal.kind, created_at: principal.createdAt, disabled: principal.disabled,
    }).execute());
  }

  /** Replaces the principal with the same id; STORE_NOT_FOUND when there is none. */
  async updatePrincipal(principal: AccessPrincipal): Promise<void> {
    const res = await this.write(`principal ${principal.name}`, () => this.db.updateTable('access_principals').set({
      name: principal.name, kind: principal.kind, created_at: principal.createdAt, disabled: principal.disabled,
    }).where('id', '=', principal.id).executeTakeFirst());
    if (res.numUpdatedRows === 0n) throw new StoreError('STORE_NOT_FOUND', `no principal ${principal.id}`, { hint: 'list the principals to see which exist' });
  }

  /** Adds a token; STORE_CONFLICT when its id is taken. */
  async insertToken(token: AccessTokenRecord): Promise<void> {
    if (await this.token(token.id) !== undefined) {
      throw new StoreError('STORE_CONFLICT', `token ${token.id} already exists`, { hint: 'create the token again' });
    }
    await this.write(`token ${token.id}`, () => this.db.insertInto('access_tokens').values({
      id: token.id,
      principal_id: token.principalId,
      name: token.name,
      created_at: token.createdAt,
      created_by: token.createdBy,
      expires_at: token.expiresAt,
      revoked_at: token.revokedAt,
      last_used_at: token.lastUsedAt,
      secret_sha256: token.secretSha256,
    }).execute());
  }

  /** Replaces the token with the same id; STORE_NOT_FOUND when there is none. */
  async updateToken(token: AccessTokenRecord): Promise<void> {
    const res = await this.write(`token ${token.id}`, () => this.db.updateTable('access_tokens').set({
      principal_id: token.principalId,
      name: token.name,
      created_at: token.createdAt,
      created_by: token.createdBy,
      expires_at: token.expiresAt,
      revoked_at: token.revokedAt,
      last_used_at: token.lastUsedAt,
      secret_sha256: token.secretSha256,
    }).where('id', '=', token.id).executeTakeFirst());
    if (res.numUpdatedRows === 0n) throw new StoreError('STORE_NOT_FOUND', `no token ${token.id}`, { hint: 'list tokens to see their ids' });
  }

  /** Sets (or replaces) a principal's password hash. */
  async setPassword(record: AccessPasswordRecord): Promise<void> {
    await this.write(`password of ${record.principalId}`, () => this.db.insertInto('access_passwords')
      .values({ principal_id: record.principalId, hash: record.hash, set_at: record.setAt })
      .onConflict((oc) => oc.column('principal_id').doUpdateSet({ hash: record.hash, set_at: record.setAt })).execute());
  }

  /** Adds a grant; false (and no change) when principal × role × dataset is already granted. */
  async insertGrant(grant: AccessGrant): Promise<boolean> {
    const res = await this.write(`grant of ${grant.role} to ${grant.principalId}`, () => sql`
      insert into access_grants (principal_id, role, dataset_id, granted_at, granted_by)
      values (${grant.principalId}, ${grant.role}, ${grant.datasetId}, ${grant.grantedAt}::timestamptz, ${grant.grantedBy})
      on conflict (principal_id, role, (coalesce(dataset_id, ''))) do nothing`.execute(this.db));
    return (res.numAffectedRows ?? 0n) > 0n;
  }

  /** Removes the grant of principal × role × dataset; false when there is none. */
  async deleteGrant(key: AccessGrantKey): Promise<boolean> {
    const res = await this.db.deleteFrom('access_grants')
      .where('principal_id', '=', key.principalId).where('role', '=', key.role)
      .where(sql<boolean>`coalesce(dataset_id, '') = coalesce(${key.datasetId}::text, '')`).executeTakeFirst();
    return res.numDeletedRows > 0n;
  }

  /**
   * Appends an event numbered max + 1. Two transactions appending at once both read the same max;
   * SERIALIZABLE makes one of them fail and retry, so numbers have no gaps and follow commit order.
   */
  async appendEvent(body: AccessEventBody, at: string): Promise<AccessEvent> {
    const last = await this.db.selectFrom('access_events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirstOrThrow();
    const seq = (last.seq ?? 0) + 1;
    const row = await this.write(`event ${body.kind}`, () => this.db.insertInto('access_events')
      .values({ seq, kind: body.kind, at, body: toJson(body) }).returningAll().executeTakeFirstOrThrow());
    return toEvent(row);
  }

  private async write<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      return translateWriteError(err, what);
    }
  }
}

/** True for failures that a retry of the whole transaction can cure. */
function retryable(err: unknown): boolean {
  const state = sqlState(err) ?? sqlState(err instanceof StoreError ? err.cause : undefined);
  if (state === SERIALIZATION_FAILURE || state === DEADLOCK_DETECTED) return true;
  // Two appenders that both read max(seq) before either inserted: the loser's key is taken.
  const cause = err instanceof StoreError ? err.cause : err;
  return state === UNIQUE_VIOLATION && typeof cause === 'object' && cause !== null && (cause as { constraint?: unknown }).constraint === 'access_events_pkey';
}

/**
 * The access store on the service database: what `AccessControl` keeps (principals, tokens,
 * passwords, grants, events) in tables, each `transaction` a SERIALIZABLE transaction that is
 * retried from the start when PostgreSQL reports a serialization failure. Satisfies the
 * `AccessStore` interface of src/access structurally.
 */
export class DbAccessStore {
  constructor(private readonly db: Executor) {}

  /** Runs `fn` on a snapshot of committed records (a read-only REPEATABLE READ transaction). */
  read<T>(fn: (reader: DbAccessReader) => Promise<T>): Promise<T> {
    return this.db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only')
      .execute((tx) => fn(new DbAccessReader(tx)));
  }

  /**
   * Runs `fn` in a SERIALIZABLE transaction; all its writes commit when it resolves, none when it
   * throws. On a serialization failure `fn` runs again on fresh data (so it must only touch `tx`),
   * up to 8 times, then STORE_BUSY.
   */
  async transaction<T>(fn: (tx: DbAccessTx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().setIsolationLevel('serializable').execute((tx: Transaction<Database>) => fn(new DbAccessTx(tx)));
      } catch (err) {
        if (!retryable(err)) throw err;
        if (attempt >= MAX_ATTEMPTS) {
          throw new StoreError('STORE_BUSY', `an access change kept conflicting with concurrent changes (${attempt} attempts)`, {
            hint: 'try again; if it persists, fewer clients should change access at once',
            cause: err,
          });
        }
        // Jittered exponential back-off so the retried transactions do not collide again.
        await delay(Math.random() * 2 ** attempt);
      }
    }
  }
}

export type { DbAccessReader, DbAccessTx };
