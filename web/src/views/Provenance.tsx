/**
 * Where a sample came from and what happened to it: batch, source, contributor, scans, decisions,
 * and the transparency-log proofs the server checked against the signed checkpoint shown below.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { asApiError, type Api, type ApiError, type Proof, type Provenance } from '../api.ts';
import { ErrorBox } from '../components/ErrorBox.tsx';
import { shortId } from '../components/Evidence.tsx';
import { entryText, leafHash, parseReceipt, recomputeRoot } from '../receipt.ts';
import { href } from '../route.ts';

/** A proof with every column filled: from its fields, or read from its receipt. */
interface ProofRow {
  readonly what: string;
  readonly logIndex: number;
  readonly leafHash: string | null;
  readonly treeSize: number;
  readonly rootHash: string | null;
  readonly hashes: number | null;
  readonly verified: boolean;
  /** Whether the audit path leads from the leaf to the checkpoint's root, recomputed in this page (null: could not check). */
  readonly checkedHere: boolean | null;
  readonly entry: string | null;
  readonly checkpoint: string | null;
}

async function proofRow(p: Proof): Promise<ProofRow> {
  const r = p.receipt === undefined ? null : parseReceipt(p.receipt);
  const leaf = p.leafHash ?? (r === null || r.entry === null ? null : await leafHash(r.entry));
  const root = p.rootHash ?? r?.rootHash ?? null;
  const path = p.hashes ?? r?.hashes ?? null;
  const size = r?.treeSize ?? p.treeSize;
  const recomputed = leaf === null || root === null || path === null ? null : await recomputeRoot(leaf, r?.index ?? p.logIndex, size, path);
  return {
    what: p.what,
    logIndex: p.logIndex,
    leafHash: leaf,
    treeSize: p.treeSize,
    rootHash: root,
    hashes: path?.length ?? null,
    verified: p.verified,
    checkedHere: recomputed === null ? null : recomputed === root,
    entry: r === null || r.entry === null ? null : entryText(r.entry),
    checkpoint: r?.checkpoint ?? null,
  };
}

function when(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function Hash({ value }: { value: string }): ReactNode {
  return (
    <span className="mono hash" title={value}>
      {value.length > 20 ? `${value.slice(0, 16)}…` : value}
    </span>
  );
}

export function ProvenanceView({ api, datasetId, sampleId }: { api: Api; datasetId: string; sampleId: string }): ReactNode {
  const [p, setP] = useState<Provenance | null>(null);
  const [rows, setRows] = useState<ProofRow[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    let live = true;
    api.provenance(datasetId, sampleId).then(
      async (r) => {
        const filled = await Promise.all(r.proofs.map(proofRow));
        if (!live) return;
        setRows(filled);
        setP(r);
      },
      (err: unknown) => live && setError(asApiError(err)),
    );
    return () => {
      live = false;
    };
  }, [api, datasetId, sampleId]);

  const crumbs = (
    <nav className="crumbs" aria-label="Breadcrumb">
      <a href={href.datasets()}>Datasets</a> <span aria-hidden="true">/</span> <a href={href.dataset(datasetId)}>{datasetId}</a> <span aria-hidden="true">/</span>{' '}
      <a href={href.review(datasetId)}>Review queue</a> <span aria-hidden="true">/</span> <span>Provenance</span>
    </nav>
  );
  if (p === null) {
    return (
      <section>
        {crumbs}
        <h1>Provenance</h1>
        {error === null ? <p aria-busy="true">Loading…</p> : <ErrorBox error={error} />}
      </section>
    );
  }
  const allVerified = rows.length > 0 && rows.every((x) => x.verified && x.checkedHere !== false);
  // The newest checkpoint any proof leads to: the largest tree.
  const checkpoint = p.checkpoint ?? [...rows].sort((a, b) => b.treeSize - a.treeSize).find((r) => r.checkpoint !== null)?.checkpoint ?? null;
  return (
    <section aria-labelledby="prov-title">
      {crumbs}
      <div className="title-row">
        <h1 id="prov-title">
          Provenance of sample <span className="mono">{shortId(p.sample.id)}</span>
        </h1>
        <span className={`badge ${allVerified ? 'ok' : 'bad'}`} role="status" data-testid="proofs-summary">
          {rows.length === 0 ? 'no proofs' : allVerified ? `✓ ${rows.length} proof${rows.length === 1 ? '' : 's'} verified` : '✗ a proof failed'}
        </span>
      </div>

      <div className="grid-2">
        <section className="card" aria-labelledby="prov-sample">
          <h2 id="prov-sample">Sample</h2>
          <dl className="facts">
            <dt>Id</dt>
            <dd className="mono-wrap">{p.sample.id}</dd>
            <dt>Label</dt>
            <dd>{p.sample.label}</dd>
            <dt>Status</dt>
            <dd>
              <span className={`badge status-${p.sample.status}`}>{p.sample.status}</span>
            </dd>
            <dt>Content id</dt>
            <dd className="mono-wrap">{p.sample.contentId}</dd>
            {p.sample.parentId !== null && (
              <>
                <dt>Relabelled from</dt>
                <dd>
                  <a className="mono" href={href.provenance(datasetId, p.sample.parentId)}>
                    {shortId(p.sample.parentId)}
                  </a>
                </dd>
              </>
            )}
          </dl>
        </section>
        <section className="card" aria-labelledby="prov-batch">
          <h2 id="prov-batch">Batch</h2>
          <dl className="facts">
            <dt>Batch</dt>
            <dd className="mono-wrap">{p.batch.id}</dd>
            <dt>Source</dt>
            <dd data-testid="prov-source">{p.batch.source.name}</dd>
            <dt>Contributor</dt>
            <dd data-testid="prov-contributor">{p.batch.contributor.name}</dd>
            <dt>Created at</dt>
            <dd>{when(p.batch.createdAt)}</dd>
            <dt>File SHA-256</dt>
            <dd><Hash value={p.batch.fileSha256} /></dd>
            <dt>Sample root</dt>
            <dd><Hash value={p.batch.sampleRoot} /></dd>
            <dt>Log index</dt>
            <dd>{p.batch.logIndex ?? '—'}</dd>
          </dl>
        </section>
      </div>

      <section className="card" aria-labelledby="prov-scans">
        <h2 id="prov-scans">Scans</h2>
        {p.scans.length === 0 ? (
          <p className="muted">Not scanned yet.</p>
        ) : (
          <table className="grid small">
            <thead>
              <tr>
                <th scope="col">Scan</th>
                <th scope="col" className="num">Log index</th>
                <th scope="col">Report SHA-256</th>
                <th scope="col">Stats</th>
              </tr>
            </thead>
            <tbody>
              {p.scans.map((s) => (
                <tr key={s.id}>
                  <td className="mono">{shortId(s.id)}</td>
                  <td className="num">{s.logIndex ?? '—'}</td>
                  <td><Hash value={s.reportSha256} /></td>
                  <td className="mono small">{typeof s.stats === 'object' && s.stats !== null ? Object.entries(s.stats).map(([k, v]) => `${k} ${String(v)}`).join(', ') : String(s.stats)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="card" aria-labelledby="prov-decisions">
        <h2 id="prov-decisions">Decisions</h2>
        {p.decisions.length === 0 ? (
          <p className="muted">No decisions yet.</p>
        ) : (
          <table className="grid small">
            <thead>
              <tr>
                <th scope="col">Reviewer</th>
                <th scope="col">Action</th>
                <th scope="col">New label</th>
                <th scope="col">At</th>
                <th scope="col" className="num">Log index</th>
              </tr>
            </thead>
            <tbody>
              {p.decisions.map((d, i) => (
                <tr key={i}>
                  <td>{d.reviewer.name}</td>
                  <td>{d.action}</td>
                  <td>{d.newLabel ?? '—'}</td>
                  <td>{when(d.at)}</td>
                  <td className="num">{d.logIndex ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="card" aria-labelledby="prov-proofs">
        <h2 id="prov-proofs">Log proofs</h2>
        <p className="muted small">Inclusion proofs (RFC 6962) of this sample's log entries in the tree the checkpoint below signs.</p>
        <div className="table-scroll">
          <table className="grid small" data-testid="proofs">
            <thead>
              <tr>
                <th scope="col">Entry</th>
                <th scope="col" className="num">Log index</th>
                <th scope="col">Leaf hash</th>
                <th scope="col" className="num">Tree size</th>
                <th scope="col">Root</th>
                <th scope="col" className="num">Hashes</th>
                <th scope="col">Verified</th>
                <th scope="col" title="the root recomputed in this browser from the leaf hash and the audit path">Root recomputed here</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((x, i) => (
                <tr key={i}>
                  <td>{x.what}</td>
                  <td className="num">{x.logIndex}</td>
                  <td>{x.leafHash === null ? '—' : <Hash value={x.leafHash} />}</td>
                  <td className="num">{x.treeSize}</td>
                  <td>{x.rootHash === null ? '—' : <Hash value={x.rootHash} />}</td>
                  <td className="num">{x.hashes ?? '—'}</td>
                  <td data-testid="proof-verified" className={x.verified ? 'ok-text' : 'bad-text'}>
                    {x.verified ? '✓ verified' : '✗ not verified'}
                  </td>
                  <td data-testid="proof-checked-here" className={x.checkedHere === null ? 'muted' : x.checkedHere ? 'ok-text' : 'bad-text'}>
                    {x.checkedHere === null ? '— (no WebCrypto)' : x.checkedHere ? '✓ matches' : '✗ differs'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {rows.some((r) => r.entry !== null) && (
          <details>
            <summary>Logged entries</summary>
            {rows.map((r, i) =>
              r.entry === null ? null : (
                <pre key={i} className="json">
                  {r.entry}
                </pre>
              ),
            )}
          </details>
        )}
        <h3>Signed checkpoint</h3>
        {checkpoint === null ? <p className="muted">The server sent no checkpoint.</p> : <pre className="checkpoint" data-testid="checkpoint">{checkpoint}</pre>}
        {p.logPublicKey !== undefined && (
          <p className="small">
            Log key <code className="mono-wrap">{p.logPublicKey}</code> — check a receipt offline with <code>trainguard log verify</code>.
          </p>
        )}
      </section>
    </section>
  );
}
