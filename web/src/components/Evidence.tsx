/**
 * The detectors' evidence for one sample, finding by finding: who flagged it, how strongly, why,
 * and the evidence a person can check (suggested label, the nearest neighbours and their labels,
 * the trigger n-gram, the trigger box). Unknown evidence fields are listed as they are.
 */
import type { ReactNode } from 'react';
import type { Finding } from '../api.ts';
import { href } from '../route.ts';
import { VisibleText } from './SampleText.tsx';

type Obj = Readonly<Record<string, unknown>>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fmt(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 0.001 && v !== 0 ? 6 : 3);
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '—';
  return JSON.stringify(v);
}

export function shortId(id: string): string {
  return id.length > 14 ? `${id.slice(0, 12)}…` : id;
}

export function SeverityBadge({ severity }: { severity: string }): ReactNode {
  return <span className={`badge sev-${severity}`}>{severity}</span>;
}

/** Rows of objects (neighbours, duplicate-group members) as a small table. */
function RowsTable({ caption, rows, datasetId }: { caption: string; rows: readonly Obj[]; datasetId: string }): ReactNode {
  const preferred = ['id', 'label', 'distance', 'jaccard', 'similarity'];
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== 'index');
  keys.sort((a, b) => (preferred.indexOf(a) + 1 || 99) - (preferred.indexOf(b) + 1 || 99));
  return (
    <table className="grid small">
      <caption>{caption}</caption>
      <thead>
        <tr>{keys.map((k) => <th key={k} scope="col">{k}</th>)}</tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>
            {keys.map((k) => (
              <td key={k} className={k === 'id' ? 'mono' : undefined} title={k === 'id' ? String(r[k]) : undefined}>
                {k === 'id' && typeof r[k] === 'string' ? (
                  <a href={href.provenance(datasetId, r[k])}>{shortId(r[k])}</a>
                ) : k === 'label' ? (
                  <strong>{fmt(r[k])}</strong>
                ) : (
                  fmt(r[k])
                )}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const SHOWN = new Set(['givenLabel', 'suggestedLabel', 'suggestedProbability', 'knn', 'trigger', 'targetLabel', 'purity', 'support', 'box', 'class', 'members', 'neighbours']);

function EvidenceBody({ evidence, datasetId }: { evidence: Obj; datasetId: string }): ReactNode {
  const knn = isObj(evidence['knn']) ? evidence['knn'] : null;
  const neighbours = (Array.isArray(knn?.['neighbours']) ? knn['neighbours'] : Array.isArray(evidence['neighbours']) ? evidence['neighbours'] : []).filter(isObj);
  const members = (Array.isArray(evidence['members']) ? evidence['members'] : []).filter(isObj);
  const box = isObj(evidence['box']) ? evidence['box'] : null;
  const rest = Object.entries(evidence).filter(([k, v]) => !SHOWN.has(k) && (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean'));
  return (
    <>
      <dl className="facts">
        {evidence['suggestedLabel'] !== undefined && (
          <>
            <dt>Suggested label</dt>
            <dd data-testid="suggested-label">
              <strong>{fmt(evidence['suggestedLabel'])}</strong>
              {typeof evidence['suggestedProbability'] === 'number' ? ` (p = ${fmt(evidence['suggestedProbability'])})` : ''}
              {evidence['givenLabel'] !== undefined ? `, given “${fmt(evidence['givenLabel'])}”` : ''}
            </dd>
          </>
        )}
        {typeof evidence['trigger'] === 'string' && (
          <>
            <dt>Trigger</dt>
            <dd>
              <mark className="mono"><VisibleText text={evidence['trigger']} /></mark>
              {evidence['targetLabel'] !== undefined ? ` → label “${fmt(evidence['targetLabel'])}”` : ''}
              {typeof evidence['purity'] === 'number' ? `; purity ${fmt(evidence['purity'])}` : ''}
              {typeof evidence['support'] === 'number' ? `; in ${fmt(evidence['support'])} samples` : ''}
            </dd>
          </>
        )}
        {box !== null && (
          <>
            <dt>Trigger box</dt>
            <dd>
              ({fmt(box['x'])}, {fmt(box['y'])}) {fmt(box['width'])}×{fmt(box['height'])}
              {evidence['class'] !== undefined ? ` in class “${fmt(evidence['class'])}”` : ''}
            </dd>
          </>
        )}
        {knn !== null && typeof knn['agreeing'] === 'number' && (
          <>
            <dt>Neighbours</dt>
            <dd>
              {fmt(knn['agreeing'])} of {fmt(knn['k'])} agree with the given label
              {knn['consensusLabel'] !== undefined ? `; most say “${fmt(knn['consensusLabel'])}”` : ''}
            </dd>
          </>
        )}
      </dl>
      {rest.length > 0 && (
        <dl className="facts-inline">
          {rest.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{fmt(v)}</dd>
            </div>
          ))}
        </dl>
      )}
      {neighbours.length > 0 && <RowsTable caption="Nearest neighbours" rows={neighbours} datasetId={datasetId} />}
      {members.length > 0 && <RowsTable caption="Group members" rows={members} datasetId={datasetId} />}
    </>
  );
}

export function Evidence({ findings, datasetId }: { findings: readonly Finding[]; datasetId: string }): ReactNode {
  if (findings.length === 0) return <p className="muted">No findings recorded for this sample.</p>;
  return (
    <ol className="findings">
      {findings.map((f, i) => (
        <li key={i} className="finding" data-testid="finding">
          <header className="finding-head">
            <SeverityBadge severity={f.severity} />
            <strong>{f.detector}</strong>
            <code>{f.code}</code>
            <span className="score" title="score in [0, 1]">score {f.score.toFixed(3)}</span>
          </header>
          <p className="finding-message"><VisibleText text={f.message} /></p>
          {isObj(f.evidence) && <EvidenceBody evidence={f.evidence} datasetId={datasetId} />}
          {f.evidence !== null && (
            <details>
              <summary>All evidence</summary>
              <pre className="json">{JSON.stringify(f.evidence, null, 2)}</pre>
            </details>
          )}
        </li>
      ))}
    </ol>
  );
}
