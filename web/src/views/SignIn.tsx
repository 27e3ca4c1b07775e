/** Sign-in with name and password; the one-time link (#code=…) is handled by the shell. */
import { useState, type FormEvent, type ReactNode } from 'react';
import { asApiError, signIn, type ApiError, type Session } from '../api.ts';
import { ErrorBox } from '../components/ErrorBox.tsx';

export function SignInView({ onSignedIn, notice }: { onSignedIn: (s: Session) => void; notice: ApiError | null }): ReactNode {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn(name.trim(), password));
    } catch (err) {
      setError(asApiError(err));
      setBusy(false);
    }
  };

  const shown = error ?? notice;
  return (
    <main className="center-page">
      <form className="card signin" onSubmit={(e) => void submit(e)} aria-labelledby="signin-title">
        <p className="brand big">
          <span className="brand-mark" aria-hidden="true">◆</span> TrainGuard
        </p>
        <h1 id="signin-title">Sign in</h1>
        <p className="muted">Review quarantined training data, with the evidence and its provenance.</p>
        {shown !== null && <ErrorBox error={shown} />}
        <label htmlFor="signin-name">Name</label>
        <input id="signin-name" name="username" autoComplete="username" required value={name} onChange={(e) => setName(e.target.value)} autoFocus />
        <label htmlFor="signin-password">Password</label>
        <input id="signin-password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
