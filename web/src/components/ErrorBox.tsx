/** A failed call as the reviewer needs it: the code to quote, what happened, and what to do. */
import type { ReactNode } from 'react';
import type { ApiError } from '../api.ts';

export function ErrorBox({ error, onDismiss }: { error: ApiError; onDismiss?: () => void }): ReactNode {
  return (
    <div className="error" role="alert" data-testid="error">
      <p>
        <code className="error-code">{error.code}</code> {error.message}
      </p>
      {error.hint === undefined ? null : <p className="hint">{error.hint}</p>}
      {onDismiss === undefined ? null : (
        <button type="button" className="link" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}
