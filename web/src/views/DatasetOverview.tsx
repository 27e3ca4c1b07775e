/**
 * One dataset at a glance: sample counts, batches (refreshed every 2 s while one is still being
 * scanned), sources with their flag rates, the open reviews, and snapshots (list and create).
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { asApiError, type Api, type ApiError, type DatasetOverview, type ReleaseResult, type Snapshot } from '../api.ts';
import { ErrorBox } from '../components/ErrorBox.tsx';
import { shortId } from '../components/Evidence.tsx';
import { StatusCounts } from '../components/StatusCounts.tsx';
import { href } from '../route.ts';

const REFRESH_MS = 2000;

function when(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(rate > 0 && rate < 0.01 ? 2 : 1)} %`;
}

export function DatasetOverviewView({ api, datasetId }: { api: Api; datasetId: string }): ReactNode {
  const [overview, setOverview] = useState<DatasetOverview | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const load = useCallback(async (): Promise<DatasetOverview | null> => {
    try {
      const o = await api.dataset(datasetId);
      setOverview(o);
      setError(null);
      return o;
    } catch (err) {
      setError(asApiError(err));
      return null;
    }
  }, [api, datasetId]);

  // Poll only while a batch is not yet scanned; a timer per round, so a slow answer never stacks requests.
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const round = async (): Promise<void> => {
      const o = await load();
      if (live && o !== null && o.batches.some((b) => b.status !== 'scanned')) timer = setTimeout(() => void round(), REFRESH_MS);
    };
    void round();
    return () => {
      live = false;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [load]);

  if (overview === null) {
    return (
      <section>
        <h1>Dataset {datasetId}</h1>
        {error === null ? <p aria-busy="true">Loading…</p> : <ErrorBox error={error} />}
      </section>
    );
  }
  const scanning = overview.batches.filter((b) => b.status !== 'scanned').length;
  return (
    <section aria-labelledby="dataset-title">
      <nav className="crumbs" aria-label="Breadcrumb">
        <a href={href.datasets()}>Datasets</a> <span aria-hidden="true">/</span> <span>{overview.name}</span>
      </nav>
      <div className="title-row">
        <h1 id="dataset-title">{overview.name}</h1>
        <a className="button" href={href.review(overview.id)} data-testid="open-review-queue">
          Review queue
        </a>
      </div>
      <p className="muted">
        <span className="mono">{overview.id}</span> · labels {overview.labels.join(', ') || '—'}
      </p>
      {error !== null && <ErrorBox error={error} />}

      <div className="grid-2">
        <section className="card" aria-labelledby="samples-title">
          <h2 id="samples-title">Samples</h2>
          <StatusCounts samples={overview.samples} />
          <p>
            <strong data-testid="open-reviews">{overview.openReviews}</strong> open review{overview.openReviews === 1 ? '' : 's'}.{' '}
            {overview.openReviews > 0 && <a href={href.review(overview.id)}>Review them</a>}
          </p>
        </section>
        <SnapshotsCard api={api} datasetId={overview.id} />
      </div>

      <section className="card" aria-labelledby="batches-title">
        <h2 id="batches-title">
          Batches{' '}
          {scanning > 0 && (
            <span className="badge sev-medium" role="status">
              {scanning} being scanned — refreshing
            </span>
          )}
        </h2>
        {overview.batches.length === 0 ? (
          <p className="muted">No batches yet. Push one with <code>POST /api/datasets/{overview.id}/batches?source=NAME</code>.</p>
        ) : (
          <div className="table-scroll">
            <table className="grid">
              <thead>
                <tr>
                  <th scope="col">Batch</th>
                  <th scope="col">Status</th>
                  <th scope="col">Format</th>
                  <th scope="col" className="num">Samples</th>
                  <th scope="col" className="num">Log index</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {overview.batches.map((b) => (
                  <tr key={b.id}>
                    <td className="mono" title={b.id}>{shortId(b.id)}</td>
                    <td>
                      <span className={`badge batch-${b.status}`}>{b.status}</span>
                    </td>
                    <td>{b.format}</td>
                    <td className="num">{b.sampleCount ?? '—'}</td>
                    <td className="num">{b.logIndex}</td>
                    <td>{when(b.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="card" aria-labelledby="sources-title">
        <h2 id="sources-title">Sources</h2>
        {overview.sources === undefined || overview.sources.length === 0 ? (
          <p className="muted">No sources yet.</p>
        ) : (
          <table className="grid">
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col" className="num">Batches</th>
                <th scope="col" className="num">Samples</th>
                <th scope="col" className="num">Flagged</th>
                <th scope="col">Flag rate</th>
              </tr>
            </thead>
            <tbody>
              {overview.sources.map((s) => (
                <tr key={s.id}>
                  <td>{s.name}</td>
                  <td className="num">{s.batches}</td>
                  <td className="num">{s.samples}</td>
                  <td className="num">{s.quarantined ?? s.flagged ?? '—'}</td>
                  <td>
                    <span className="rate">
                      <span className="rate-bar" aria-hidden="true">
                        <span style={{ width: `${Math.min(100, Math.max(0, s.flagRate * 100))}%` }} />
                      </span>
                      {percent(s.flagRate)}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </section>
  );
}

function SnapshotsCard({ api, datasetId }: { api: Api; datasetId: string }): ReactNode {
  const [snapshots, setSnapshots] = useState<Snapshot[] | null>(null);
  const [listError, setListError] = useState<ApiError | null>(null);
  const [created, setCreated] = useState<ReleaseResult | null>(null);
  const [createError, setCreateError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const list = useCallback(async () => {
    try {
      setSnapshots((await api.snapshots(datasetId)).snapshots);
      setListError(null);
    } catch (err) {
      setListError(asApiError(err));
    }
  }, [api, datasetId]);
  useEffect(() => {
    void list();
  }, [list]);

  const create = async (): Promise<void> => {
    setBusy(true);
    setCreateError(null);
    setCreated(null);
    try {
      setCreated(await api.createSnapshot(datasetId));
      await list();
    } catch (err) {
      setCreateError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="snapshots-title">
      <div className="title-row">
        <h2 id="snapshots-title">Snapshots</h2>
        <button type="button" onClick={() => void create()} disabled={busy}>
          {busy ? 'Creating…' : 'Create snapshot'}
        </button>
      </div>
      {createError !== null && <ErrorBox error={createError} onDismiss={() => setCreateError(null)} />}
      {created !== null && (
        <div className="success" role="status" data-testid="snapshot-created">
          <p>
            Snapshot <code data-testid="snapshot-id">{created.snapshotId}</code> created: {created.sampleCount.toLocaleString('en')} samples, log index{' '}
            {created.logIndex}.
          </p>
          <p className="muted small mono">sample root {created.sampleRoot}</p>
        </div>
      )}
      {listError !== null && <ErrorBox error={listError} />}
      {snapshots !== null && snapshots.length === 0 && <p className="muted">No snapshots yet.</p>}
      {snapshots !== null && snapshots.length > 0 && (
        <table className="grid small">
          <thead>
            <tr>
              <th scope="col">Snapshot</th>
              <th scope="col" className="num">Samples</th>
              <th scope="col" className="num">Log index</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {snapshots.map((s) => (
              <tr key={s.id}>
                <td className="mono" title={`${s.id}${s.parentId === null ? '' : `, parent ${s.parentId}`}`}>{s.id}</td>
                <td className="num">{s.sampleCount}</td>
                <td className="num">{s.logIndex}</td>
                <td>{when(s.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
