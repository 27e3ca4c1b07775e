import { randomBytes } from 'node:crypto';
import { AccessError } from './errors.ts';
import type { DecisionReason, Role, ScopedGrant } from './permissions.ts';

/** A user (web UI, CLI) or a service account (pipelines; tokens only, no password). */
export type PrincipalKind = 'user' | 'service';

export interface Principal {
  /** `p_` + 24 hex digits. Ledger entries and events name principals by id, never by name. */
  readonly id: string;
  /** Unique, immutable: 1–64 of a–z 0–9 . _ @ -, starting with a letter or digit. */
  readonly name: string;
  readonly kind: PrincipalKind;
  /** ISO 8601 UTC. */
  readonly createdAt: string;
  readonly disabled: boolean;
}

/** A role held by a principal on one dataset, or globally (`datasetId: null`). */
export interface Grant extends ScopedGrant {
  readonly grantedAt: string;
  /** Principal id of the granter; null for the bootstrap admin's own grant. */
  readonly grantedBy: string | null;
}

/** An API token as listed: everything except the secret's hash. */
export interface TokenInfo {
  /** 24 hex digits; the part of the token between `tg_` and the secret. */
  readonly id: string;
  readonly principalId: string;
  /** What the token is for, e.g. "ci push". */
  readonly name: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
  /** Updated at most once per `LAST_USED_GRANULARITY_MS`, so authentication is not a write per request. */
  readonly lastUsedAt: string | null;
}

/** A token as stored: the SHA-256 of its secret, never the secret. */
export interface TokenRecord extends TokenInfo {
  readonly secretSha256: string;
}

/** A user's password as stored: an argon2id PHC string (algorithm, version, parameters, salt, hash). */
export interface PasswordRecord {
  readonly principalId: string;
  readonly hash: string;
  readonly setAt: string;
}

/**
 * What happened, as recorded in the store's event list (the audit list and the outbox for the ledger).
 * Events name principals by id only: names may be personal data, and grants become log entries.
 * `actorId` is who did it; null only for the bootstrap admin creating itself.
 */
export type AccessEventBody =
  | { readonly kind: 'principal-created'; readonly actorId: string | null; readonly principalId: string; readonly principalKind: PrincipalKind }
  | { readonly kind: 'principal-disabled' | 'principal-enabled'; readonly actorId: string; readonly principalId: string }
  | { readonly kind: 'password-set'; readonly actorId: string | null; readonly principalId: string }
  | { readonly kind: 'token-created'; readonly actorId: string; readonly principalId: string; readonly tokenId: string; readonly expiresAt: string }
  | { readonly kind: 'token-revoked'; readonly actorId: string; readonly principalId: string; readonly tokenId: string }
  | { readonly kind: 'grant' | 'revoke'; readonly actorId: string | null; readonly principalId: string; readonly role: Role; readonly datasetId: string | null }
  | {
      readonly kind: 'denied';
      readonly principalId: string;
      /** As asked, even when unknown; this and the ids are cut to `MAX_EVENT_FIELD_LENGTH` characters. */
      readonly permission: string;
      readonly datasetId: string | null;
      readonly reason: Exclude<DecisionReason, 'granted'>;
    };

export type AccessEventKind = AccessEventBody['kind'];

/** A committed event: a store-wide sequence number (1, 2, ...) and the time. */
export type AccessEvent = AccessEventBody & { readonly seq: number; readonly at: string };

export const MAX_EVENT_FIELD_LENGTH = 128;

export const PRINCIPAL_NAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;
export const PRINCIPAL_ID = /^p_[0-9a-f]{24}$/;
export const DATASET_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const TOKEN_NAME_MAX = 100;
// Control, format (bidi overrides can make a listing lie), lone surrogates, line/paragraph separators.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

export function newPrincipalId(): string {
  return `p_${randomBytes(12).toString('hex')}`;
}

/** Throws ACCESS_BAD_INPUT unless `name` is a valid principal name. */
export function checkPrincipalName(name: string): void {
  if (!PRINCIPAL_NAME.test(name)) {
    throw new AccessError('ACCESS_BAD_INPUT', `invalid principal name ${JSON.stringify(name.slice(0, 80))}`, {
      hint: 'use 1-64 characters a-z, 0-9, ".", "_", "@", "-", starting with a letter or digit (e.g. alice or ci-push@team)',
    });
  }
}

/** Throws ACCESS_BAD_INPUT unless `id` is a valid dataset id. */
export function checkDatasetId(id: string): void {
  if (!DATASET_ID.test(id)) {
    throw new AccessError('ACCESS_BAD_INPUT', `invalid dataset id ${JSON.stringify(id.slice(0, 80))}`, {
      hint: 'use 1-128 characters A-Z, a-z, 0-9, ".", "_", "-", starting with a letter or digit',
    });
  }
}

/** Throws ACCESS_BAD_INPUT unless `name` is a printable token name of 1–100 characters. */
export function checkTokenName(name: string): void {
  if (name.trim().length === 0 || name.length > TOKEN_NAME_MAX || UNPRINTABLE.test(name)) {
    throw new AccessError('ACCESS_BAD_INPUT', 'invalid token name', {
      hint: `name the token in 1-${TOKEN_NAME_MAX} printable characters, e.g. "ci push"`,
    });
  }
}
