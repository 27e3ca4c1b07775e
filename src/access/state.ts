import { AccessError } from './errors.ts';
import type { AccessEvent, AccessEventBody, Grant, PasswordRecord, Principal, TokenRecord } from './model.ts';
import type { AccessReader, AccessStore, AccessTx, EventQuery, GrantFilter, GrantKey } from './store.ts';

/**
 * The records of an access store as plain arrays: what the file store writes as JSON and the
 * memory store keeps. Records are frozen and never changed in place; a transaction works on
 * shallow copies of the arrays and replaces the committed state only when it succeeds.
 */
export interface AccessState {
  readonly principals: Principal[];
  readonly tokens: TokenRecord[];
  readonly passwords: PasswordRecord[];
  readonly grants: Grant[];
  readonly events: AccessEvent[];
}

export function emptyState(): AccessState {
  return { principals: [], tokens: [], passwords: [], grants: [], events: [] };
}

export function copyState(s: AccessState): AccessState {
  return {
    principals: [...s.principals],
    tokens: [...s.tokens],
    passwords: [...s.passwords],
    grants: [...s.grants],
    events: [...s.events],
  };
}

function sameGrant(g: GrantKey, key: GrantKey): boolean {
  return g.principalId === key.principalId && g.role === key.role && g.datasetId === key.datasetId;
}

/** Reads (and, inside a transaction, writes) one `AccessState`. */
export class StateAccess implements AccessTx {
  #changed = false;

  constructor(private readonly state: AccessState) {}

  /** True once a write has changed the state, so a store can skip writing an unchanged one. */
  get changed(): boolean {
    return this.#changed;
  }

  async principalById(id: string): Promise<Principal | undefined> {
    return this.state.principals.find((p) => p.id === id);
  }

  async principalByName(name: string): Promise<Principal | undefined> {
    return this.state.principals.find((p) => p.name === name);
  }

  async principals(): Promise<Principal[]> {
    return [...this.state.principals].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async principalCount(): Promise<number> {
    return this.state.principals.length;
  }

  async token(id: string): Promise<TokenRecord | undefined> {
    return this.state.tokens.find((t) => t.id === id);
  }

  async tokens(principalId?: string): Promise<TokenRecord[]> {
    return this.state.tokens.filter((t) => principalId === undefined || t.principalId === principalId);
  }

  async password(principalId: string): Promise<PasswordRecord | undefined> {
    return this.state.passwords.find((p) => p.principalId === principalId);
  }

  async grants(filter: GrantFilter = {}): Promise<Grant[]> {
    return this.state.grants.filter((g) =>
      (filter.principalId === undefined || g.principalId === filter.principalId)
      && (filter.datasetId === undefined || g.datasetId === filter.datasetId)
      && (filter.role === undefined || g.role === filter.role));
  }

  async events(query: EventQuery = {}): Promise<AccessEvent[]> {
    const after = query.afterSeq ?? 0;
    const out: AccessEvent[] = [];
    const limit = query.limit ?? Infinity;
    for (const e of this.state.events) {
      if (out.length >= limit) break;
      if (e.seq > after && (query.kinds === undefined || query.kinds.includes(e.kind))) out.push(e);
    }
    return out;
  }

  async insertPrincipal(principal: Principal): Promise<void> {
    if (this.state.principals.some((p) => p.name === principal.name || p.id === principal.id)) {
      throw new AccessError('ACCESS_EXISTS', `a principal named ${principal.name} already exists`, {
        hint: 'principal names are unique; choose another name',
      });
    }
    this.state.principals.push(Object.freeze({ ...principal }));
    this.#changed = true;
  }

  async updatePrincipal(principal: Principal): Promise<void> {
    replaceById(this.state.principals, principal, 'principal');
    this.#changed = true;
  }

  async insertToken(token: TokenRecord): Promise<void> {
    if (this.state.tokens.some((t) => t.id === token.id)) {
      throw new AccessError('ACCESS_EXISTS', `token ${token.id} already exists`, { hint: 'create the token again' });
    }
    this.state.tokens.push(Object.freeze({ ...token }));
    this.#changed = true;
  }

  async updateToken(token: TokenRecord): Promise<void> {
    replaceById(this.state.tokens, token, 'token');
    this.#changed = true;
  }

  async setPassword(record: PasswordRecord): Promise<void> {
    const i = this.state.passwords.findIndex((p) => p.principalId === record.principalId);
    if (i >= 0) this.state.passwords.splice(i, 1);
    this.state.passwords.push(Object.freeze({ ...record }));
    this.#changed = true;
  }

  async insertGrant(grant: Grant): Promise<boolean> {
    if (this.state.grants.some((g) => sameGrant(g, grant))) return false;
    this.state.grants.push(Object.freeze({ ...grant }));
    this.#changed = true;
    return true;
  }

  async deleteGrant(key: GrantKey): Promise<boolean> {
    const i = this.state.grants.findIndex((g) => sameGrant(g, key));
    if (i < 0) return false;
    this.state.grants.splice(i, 1);
    this.#changed = true;
    return true;
  }

  async appendEvent(body: AccessEventBody, at: string): Promise<AccessEvent> {
    const seq = (this.state.events.at(-1)?.seq ?? 0) + 1;
    const event = Object.freeze({ ...body, seq, at }) as AccessEvent;
    this.state.events.push(event);
    this.#changed = true;
    return event;
  }
}

function replaceById<T extends { readonly id: string }>(list: T[], record: T, what: string): void {
  const i = list.findIndex((r) => r.id === record.id);
  if (i < 0) throw new AccessError('ACCESS_NOT_FOUND', `no ${what} ${record.id}`, { hint: `list the ${what}s to see which exist` });
  list[i] = Object.freeze({ ...record });
}

/** Runs async critical sections one at a time, in call order. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** An access store in memory, for tests and for embedding where nothing must persist. */
export class MemoryAccessStore implements AccessStore {
  #state: AccessState = emptyState();
  readonly #queue = new SerialQueue();

  async read<T>(fn: (reader: AccessReader) => Promise<T>): Promise<T> {
    return fn(new StateAccess(this.#state));
  }

  transaction<T>(fn: (tx: AccessTx) => Promise<T>): Promise<T> {
    return this.#queue.run(async () => {
      const working = copyState(this.#state);
      const result = await fn(new StateAccess(working));
      this.#state = working;
      return result;
    });
  }
}
