/** Sample counts by status, quarantined first: what needs a person. */
import type { ReactNode } from 'react';

const ORDER = ['quarantined', 'pending', 'accepted', 'rejected'];

export function StatusCounts({ samples }: { samples: Readonly<Record<string, number>> }): ReactNode {
  const statuses = Object.keys(samples).sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b));
  const total = statuses.reduce((n, s) => n + (samples[s] ?? 0), 0);
  return (
    <dl className="counts">
      {statuses.map((s) => (
        <div key={s} className={`count status-${s}`}>
          <dt>{s}</dt>
          <dd>{(samples[s] ?? 0).toLocaleString('en')}</dd>
        </div>
      ))}
      <div className="count">
        <dt>total</dt>
        <dd>{total.toLocaleString('en')}</dd>
      </div>
    </dl>
  );
}
