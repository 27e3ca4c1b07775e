/** The datasets the signed-in person may read, with their sample counts and open reviews. */
import { useEffect, useState, type ReactNode } from 'react';
import { asApiError, type Api, type ApiError, type DatasetSummary } from '../api.ts';
import { ErrorBox } from '../components/ErrorBox.tsx';
import { StatusCounts } from '../components/StatusCounts.tsx';
import { href } from '../route.ts';

export function DatasetsView({ api }: { api: Api }): ReactNode {
  const [datasets, setDatasets] = useState<DatasetSummary[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    let live = true;
    api.datasets().then(
      (r) => live && setDatasets(r.datasets),
      (err: unknown) => live && setError(asApiError(err)),
    );
    return () => {
      live = false;
    };
  }, [api]);

  return (
    <section aria-labelledby="datasets-title">
      <h1 id="datasets-title">Datasets</h1>
      {error !== null && <ErrorBox error={error} />}
      {datasets === null && error === null && <p aria-busy="true">Loading…</p>}
      {datasets !== null && datasets.length === 0 && <p className="muted">You may not read any dataset yet. Ask an administrator for a grant.</p>}
      {datasets !== null && datasets.length > 0 && (
        <ul className="dataset-cards">
          {datasets.map((d) => (
            <li key={d.id} className="card">
              <h2>
                <a href={href.dataset(d.id)}>{d.name}</a>
              </h2>
              <p className="muted mono small">{d.id}</p>
              <StatusCounts samples={d.samples} />
              <p className="muted small">Labels: {d.labels.join(', ') || '—'}</p>
              <div className="row">
                <a className="button" href={href.review(d.id)}>
                  Review queue{d.openReviews > 0 ? ` (${d.openReviews})` : ''}
                </a>
                <a className="button secondary" href={href.dataset(d.id)}>
                  Overview
                </a>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
