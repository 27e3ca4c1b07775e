/**
 * The TrainGuard HTTP API as the UI uses it: typed responses and one error type. Every failure —
 * the server's `{code, message, hint}`, a network error, a body that is not JSON — becomes an
 * `ApiError`, so a view shows code, message and hint the same way whatever went wrong.
 */

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';
export type ReviewAction = 'approve' | 'reject' | 'relabel';

export interface Principal {
  readonly id: string;
  readonly name: string;
}

export interface Session {
  readonly token: string;
  readonly expiresAt: string;
  readonly principal: Principal;
}

export interface Me extends Principal {
  readonly grants: readonly { readonly role: string; readonly datasetId: string | null }[];
}

export interface DatasetSummary {
  readonly id: string;
  readonly name: string;
  readonly labels: readonly string[];
  readonly openReviews: number;
  readonly samples: Readonly<Record<string, number>>;
}

export interface Batch {
  readonly id: string;
  readonly datasetId: string;
  readonly sourceId: string;
  readonly contributorId: string;
  readonly format: string;
  readonly fileSha256: string;
  readonly sampleRoot: string;
  readonly logIndex: number;
  readonly status: 'pending' | 'scanning' | 'scanned';
  readonly createdAt: string;
  readonly sampleCount?: number;
}

export interface SourceStats {
  readonly id: string;
  readonly name: string;
  readonly batches: number;
  readonly samples: number;
  /** Samples flagged by the scans (older servers: `flagged`). */
  readonly quarantined?: number;
  readonly flagged?: number;
  readonly flagRate: number;
}

export interface DatasetOverview {
  readonly id: string;
  readonly name: string;
  readonly labels: readonly string[];
  readonly settings: unknown;
  readonly samples: Readonly<Record<string, number>>;
  readonly batches: readonly Batch[];
  readonly openReviews: number;
  readonly sources?: readonly SourceStats[];
}

export interface Finding {
  readonly detector: string;
  readonly code: string;
  readonly score: number;
  readonly severity: Severity;
  readonly message: string;
  readonly evidence: Readonly<Record<string, unknown>> | null;
}

export interface TaskDecision {
  readonly reviewer: string;
  readonly reviewerName?: string;
  readonly action: ReviewAction;
  readonly newLabel: string | null;
}

export interface ReviewTask {
  readonly id: string;
  readonly datasetId: string;
  readonly sampleId: string;
  readonly severity: Severity;
  readonly score: number;
  readonly requiredApprovals: number;
  readonly decisions?: readonly TaskDecision[];
  readonly label: string | null;
  readonly batchId: string | null;
  readonly rowIndex: number | null;
  readonly findings: readonly Finding[];
}

export interface DecisionResult {
  readonly settled: boolean;
  readonly agreeing: number;
  readonly required: number;
  readonly logIndex: number;
  readonly sampleId: string | null;
}

export interface Sample {
  readonly id: string;
  readonly datasetId: string;
  readonly label: string;
  readonly status: string;
  readonly batchId: string;
  readonly rowIndex: number;
  readonly externalId: string | null;
  readonly contentId: string;
  readonly kind: 'text' | 'row' | 'image';
  readonly values: Readonly<Record<string, string>>;
  readonly text?: string;
  readonly textColumn?: string;
  readonly image?: { readonly url: string; readonly width: number; readonly height: number; readonly side: number };
}

/** A log inclusion proof the server verified: as fields, or as a C2SP tlog-proof receipt (which holds them all). */
export interface Proof {
  readonly what: 'batch' | 'scan' | 'review' | string;
  readonly logIndex: number;
  readonly treeSize: number;
  readonly verified: boolean;
  readonly leafHash?: string;
  readonly rootHash?: string;
  readonly hashes?: readonly string[];
  readonly receipt?: string;
}

export interface Provenance {
  readonly sample: { readonly id: string; readonly label: string; readonly status: string; readonly parentId: string | null; readonly contentId: string };
  readonly batch: {
    readonly id: string;
    readonly source: Principal;
    readonly contributor: Principal;
    readonly createdAt: string;
    readonly fileSha256: string;
    readonly sampleRoot: string;
    readonly logIndex: number | null;
  };
  readonly scans: readonly { readonly id: string; readonly logIndex: number | null; readonly reportSha256: string; readonly stats: unknown }[];
  readonly decisions: readonly { readonly reviewer: Principal; readonly action: ReviewAction; readonly newLabel: string | null; readonly at: string; readonly logIndex: number | null }[];
  readonly proofs: readonly Proof[];
  /** The signed checkpoint the proofs lead to (else it is read from a receipt). */
  readonly checkpoint?: string;
  /** The log's verifier key (C2SP note vkey). */
  readonly logPublicKey?: string;
}

export interface Snapshot {
  readonly id: string;
  readonly parentId: string | null;
  readonly createdBy: string;
  readonly sampleCount: number;
  readonly sampleRoot: string;
  readonly logIndex: number;
  readonly createdAt: string;
}

export interface ReleaseResult {
  readonly snapshotId: string;
  readonly sampleCount: number;
  readonly sampleRoot: string;
  readonly logIndex: number;
  readonly fileSha256: string;
}

/** Any failed call: the server's code, message and hint, or a client-side code (NETWORK, HTTP_<status>). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(0, 'CLIENT_ERROR', err instanceof Error ? err.message : String(err));
}

const SESSION_KEY = 'trainguard.session';

/** The session lives in sessionStorage: it ends with the tab, and other tabs do not share it. */
export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (raw === null) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.token !== 'string' || typeof s.principal?.name !== 'string') return null;
    if (typeof s.expiresAt === 'string' && Date.parse(s.expiresAt) <= Date.now()) return null;
    return s as Session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session === null) sessionStorage.removeItem(SESSION_KEY);
  else sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

const enc = encodeURIComponent;

async function request(method: string, path: string, token: string | null, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `the server did not answer (${err instanceof Error ? err.message : String(err)})`, 'check that `trainguard serve` is running');
  }
  if (!res.ok) {
    let parsed: { code?: unknown; message?: unknown; hint?: unknown } = {};
    try {
      parsed = (await res.json()) as typeof parsed;
    } catch {
      // A proxy's HTML error page: fall back to the status line below.
    }
    throw new ApiError(
      res.status,
      typeof parsed.code === 'string' ? parsed.code : `HTTP_${res.status}`,
      typeof parsed.message === 'string' ? parsed.message : res.statusText || 'request failed',
      typeof parsed.hint === 'string' ? parsed.hint : undefined,
    );
  }
  return res;
}

async function json<T>(method: string, path: string, token: string | null, body?: unknown): Promise<T> {
  const res = await request(method, path, token, body);
  try {
    return (await res.json()) as T;
  } catch {
    throw new ApiError(res.status, 'BAD_RESPONSE', `${method} ${path} did not return JSON`);
  }
}

export function signIn(name: string, password: string): Promise<Session> {
  return json('POST', '/api/session', null, { name, password });
}

export function signInWithCode(code: string): Promise<Session> {
  return json('POST', '/api/session/code', null, { code });
}

/** The calls that need a session; `onUnauthenticated` runs when the server no longer accepts the token. */
export class Api {
  constructor(
    private readonly token: string,
    private readonly onUnauthenticated: () => void,
  ) {}

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await json<T>(method, path, this.token, body);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.onUnauthenticated();
      throw err;
    }
  }

  /** Revokes this session's token on the server (sign-out). */
  async signOut(): Promise<void> {
    await request('DELETE', '/api/session', this.token);
  }

  me(): Promise<Me> {
    return this.#json('GET', '/api/me');
  }

  datasets(): Promise<{ datasets: DatasetSummary[] }> {
    return this.#json('GET', '/api/datasets');
  }

  dataset(id: string): Promise<DatasetOverview> {
    return this.#json('GET', `/api/datasets/${enc(id)}`);
  }

  reviewQueue(datasetId: string, options: { limit?: number; cursor?: string } = {}): Promise<{ tasks: ReviewTask[]; next: string | null }> {
    const q = new URLSearchParams({ limit: String(options.limit ?? 50) });
    if (options.cursor !== undefined) q.set('cursor', options.cursor);
    return this.#json('GET', `/api/datasets/${enc(datasetId)}/review?${q.toString()}`);
  }

  decide(taskId: string, decision: { action: ReviewAction; newLabel?: string; reason: string }): Promise<DecisionResult> {
    return this.#json('POST', `/api/review/${enc(taskId)}/decision`, decision);
  }

  sample(datasetId: string, sampleId: string): Promise<Sample> {
    return this.#json('GET', `/api/datasets/${enc(datasetId)}/samples/${enc(sampleId)}`);
  }

  provenance(datasetId: string, sampleId: string): Promise<Provenance> {
    return this.#json('GET', `/api/datasets/${enc(datasetId)}/samples/${enc(sampleId)}/provenance`);
  }

  snapshots(datasetId: string): Promise<{ snapshots: Snapshot[] }> {
    return this.#json('GET', `/api/datasets/${enc(datasetId)}/snapshots`);
  }

  createSnapshot(datasetId: string): Promise<ReleaseResult> {
    return this.#json('POST', `/api/datasets/${enc(datasetId)}/snapshots`);
  }

  /** An image behind the bearer token, as an object URL the caller must revoke. Only same-origin API paths. */
  async imageUrl(path: string): Promise<string> {
    if (!path.startsWith('/api/')) throw new ApiError(0, 'CLIENT_BAD_URL', `refusing to fetch ${path}`, 'sample images come from /api/');
    try {
      const res = await request('GET', path, this.token);
      return URL.createObjectURL(await res.blob());
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.onUnauthenticated();
      throw err;
    }
  }
}
