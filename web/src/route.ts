/**
 * Routing by location.hash, so any server path serves the same index.html and a link to a view
 * survives a reload: #/ (datasets), #/datasets/ID, #/datasets/ID/review, #/datasets/ID/samples/SID.
 * `#code=…` is not a route: it is a one-time sign-in code, consumed and removed at start.
 */
import { useEffect, useState } from 'react';

export type Route =
  | { readonly view: 'datasets' }
  | { readonly view: 'dataset'; readonly datasetId: string }
  | { readonly view: 'review'; readonly datasetId: string }
  | { readonly view: 'provenance'; readonly datasetId: string; readonly sampleId: string }
  | { readonly view: 'not-found'; readonly hash: string };

function decode(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  if (path === '' || path === 'datasets') return { view: 'datasets' };
  const parts = path.split('/').map(decode);
  if (parts.some((p) => p === null || p === '')) return { view: 'not-found', hash };
  const [head, datasetId, sub, sampleId, ...rest] = parts as string[];
  if (head !== 'datasets' || datasetId === undefined || rest.length > 0) return { view: 'not-found', hash };
  if (sub === undefined) return { view: 'dataset', datasetId };
  if (sub === 'review' && sampleId === undefined) return { view: 'review', datasetId };
  if (sub === 'samples' && sampleId !== undefined) return { view: 'provenance', datasetId, sampleId };
  return { view: 'not-found', hash };
}

const enc = encodeURIComponent;

export const href = {
  datasets: (): string => '#/',
  dataset: (id: string): string => `#/datasets/${enc(id)}`,
  review: (id: string): string => `#/datasets/${enc(id)}/review`,
  provenance: (id: string, sampleId: string): string => `#/datasets/${enc(id)}/samples/${enc(sampleId)}`,
};

export function useHash(): string {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const update = (): void => setHash(window.location.hash);
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return hash;
}

/** Reads and removes a `#code=…` fragment, without leaving the code in the history. */
export function takeSignInCode(): string | null {
  const m = /^#code=([^&]+)/.exec(window.location.hash);
  if (m === null) return null;
  history.replaceState(null, '', `${window.location.pathname}${window.location.search}#/`);
  return decode(m[1] as string);
}
