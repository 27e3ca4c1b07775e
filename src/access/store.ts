import type { AccessEvent, AccessEventBody, AccessEventKind, Grant, PasswordRecord, Principal, TokenRecord } from './model.ts';
import type { Role } from './permissions.ts';

/**
 * Persistence for access control. `AccessControl` holds all the rules; a store only keeps records
 * and enforces what a database would (unique names and ids, one grant per principal × role × scope,
 * all-or-nothing transactions). Implementations: `MemoryAccessStore`, `FileAccessStore`, and later
 * one on the service database (kysely), which maps `transaction` to a SERIALIZABLE transaction.
 */
export interface AccessStore {
  /** Runs `fn` on a consistent view of committed records. */
  read<T>(fn: (reader: AccessReader) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` in a transaction: it sees its own writes; its writes all commit when it resolves and
   * none when it throws (the error is rethrown). Transactions on one store are serialised.
   */
  transaction<T>(fn: (tx: AccessTx) => Promise<T>): Promise<T>;
}

/** Which grants to list; `datasetId: null` selects global grants only, undefined any scope. */
export interface GrantFilter {
  readonly principalId?: string;
  readonly datasetId?: string | null;
  readonly role?: Role;
}

/** Which events to list: after a sequence number (exclusive), of some kinds, at most `limit`. */
export interface EventQuery {
  readonly afterSeq?: number;
  readonly kinds?: readonly AccessEventKind[];
  readonly limit?: number;
}

export interface AccessReader {
  principalById(id: string): Promise<Principal | undefined>;
  principalByName(name: string): Promise<Principal | undefined>;
  /** All principals, by name. */
  principals(): Promise<Principal[]>;
  principalCount(): Promise<number>;
  token(id: string): Promise<TokenRecord | undefined>;
  /** Tokens in creation order, of one principal or of all. */
  tokens(principalId?: string): Promise<TokenRecord[]>;
  password(principalId: string): Promise<PasswordRecord | undefined>;
  /** Grants in the order they were made. */
  grants(filter?: GrantFilter): Promise<Grant[]>;
  /** Events by sequence number. */
  events(query?: EventQuery): Promise<AccessEvent[]>;
}

export interface AccessTx extends AccessReader {
  /** Adds a principal; ACCESS_EXISTS when its name (or id) is taken. */
  insertPrincipal(principal: Principal): Promise<void>;
  /** Replaces the principal with the same id; ACCESS_NOT_FOUND when there is none. */
  updatePrincipal(principal: Principal): Promise<void>;
  /** Adds a token; ACCESS_EXISTS when its id is taken. */
  insertToken(token: TokenRecord): Promise<void>;
  /** Replaces the token with the same id; ACCESS_NOT_FOUND when there is none. */
  updateToken(token: TokenRecord): Promise<void>;
  /** Sets (or replaces) a principal's password hash. */
  setPassword(record: PasswordRecord): Promise<void>;
  /** Adds a grant; false (and no change) when the same principal × role × dataset is already granted. */
  insertGrant(grant: Grant): Promise<boolean>;
  /** Removes the grant of principal × role × dataset; false when there is none. */
  deleteGrant(key: GrantKey): Promise<boolean>;
  /** Appends an event with the next sequence number. */
  appendEvent(body: AccessEventBody, at: string): Promise<AccessEvent>;
}

export interface GrantKey {
  readonly principalId: string;
  readonly role: Role;
  readonly datasetId: string | null;
}
