/** The shell: the session (sign-in, sign-out), the header, and the view the hash names. */
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { Api, ApiError, asApiError, loadSession, saveSession, signInWithCode, type Session } from './api.ts';
import { href, parseRoute, useHash, type Route } from './route.ts';
import { DatasetOverviewView } from './views/DatasetOverview.tsx';
import { DatasetsView } from './views/Datasets.tsx';
import { ProvenanceView } from './views/Provenance.tsx';
import { ReviewQueueView } from './views/ReviewQueue.tsx';
import { SignInView } from './views/SignIn.tsx';

export function App({ signInCode }: { signInCode: string | null }): ReactNode {
  const [session, setSession] = useState<Session | null>(() => (signInCode === null ? loadSession() : null));
  const [codeState, setCodeState] = useState<{ pending: boolean; error: ApiError | null }>({ pending: signInCode !== null, error: null });
  const [expired, setExpired] = useState(false);
  const hash = useHash();
  const route = parseRoute(hash);

  const start = useCallback((s: Session) => {
    saveSession(s);
    setExpired(false);
    setSession(s);
  }, []);

  useEffect(() => {
    if (signInCode === null) return;
    let live = true;
    signInWithCode(signInCode).then(
      (s) => {
        if (!live) return;
        start(s);
        setCodeState({ pending: false, error: null });
      },
      (err: unknown) => live && setCodeState({ pending: false, error: asApiError(err) }),
    );
    return () => {
      live = false;
    };
  }, [signInCode, start]);

  const api = useMemo(
    () => (session === null ? null : new Api(session.token, () => {
      saveSession(null);
      setExpired(true);
      setSession(null);
    })),
    [session],
  );

  const signOut = useCallback(() => {
    // The token is revoked on the server, not only forgotten here; a failure still signs out locally.
    void api?.signOut().catch(() => undefined);
    saveSession(null);
    setSession(null);
  }, [api]);

  useEffect(() => {
    const titles: Record<Route['view'], string> = { datasets: 'Datasets', dataset: 'Dataset', review: 'Review queue', provenance: 'Provenance', 'not-found': 'Not found' };
    document.title = session === null ? 'Sign in · TrainGuard' : `${titles[route.view]} · TrainGuard`;
  }, [route.view, session]);

  if (codeState.pending) {
    return (
      <main className="center-page" aria-busy="true">
        <p>Signing in with your one-time link…</p>
      </main>
    );
  }
  if (session === null || api === null) {
    return <SignInView onSignedIn={start} notice={codeState.error ?? (expired ? expiredError : null)} />;
  }

  let view: ReactNode;
  switch (route.view) {
    case 'datasets':
      view = <DatasetsView api={api} />;
      break;
    case 'dataset':
      view = <DatasetOverviewView key={route.datasetId} api={api} datasetId={route.datasetId} />;
      break;
    case 'review':
      view = <ReviewQueueView key={route.datasetId} api={api} datasetId={route.datasetId} principal={session.principal} />;
      break;
    case 'provenance':
      view = <ProvenanceView key={`${route.datasetId}/${route.sampleId}`} api={api} datasetId={route.datasetId} sampleId={route.sampleId} />;
      break;
    case 'not-found':
      view = (
        <section>
          <h1>Not found</h1>
          <p>
            There is no page at <code>{route.hash}</code>. <a href={href.datasets()}>Go to the datasets</a>.
          </p>
        </section>
      );
      break;
  }
  return (
    <>
      <a className="skip-link" href="#main" onClick={(e) => {
        e.preventDefault();
        document.getElementById('main')?.focus();
      }}>
        Skip to content
      </a>
      <header className="topbar">
        <a className="brand" href={href.datasets()}>
          <span className="brand-mark" aria-hidden="true">◆</span> TrainGuard
        </a>
        <nav aria-label="Main">
          <a href={href.datasets()} aria-current={route.view === 'datasets' ? 'page' : undefined}>Datasets</a>
        </nav>
        <div className="who">
          <span>
            Signed in as <strong data-testid="principal">{session.principal.name}</strong>
          </span>
          <button type="button" className="secondary" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {view}
      </main>
    </>
  );
}

const expiredError = new ApiError(401, 'ACCESS_UNAUTHENTICATED', 'your session has ended or was revoked', 'sign in again');
