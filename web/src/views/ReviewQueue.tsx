/**
 * The review queue: one task at a time, most severe first (the server's order), with the list at
 * the side. The card shows the sample, the detectors' evidence and the decision; keyboard:
 * a / r / l approve, reject, relabel; j / k next, previous; in the reason box Ctrl+Enter submits
 * the chosen action and Esc leaves the box. After a decision the next open task is shown.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { asApiError, type Api, type ApiError, type DecisionResult, type Principal, type ReviewAction, type ReviewTask, type Sample } from '../api.ts';
import { ErrorBox } from '../components/ErrorBox.tsx';
import { Evidence, SeverityBadge, shortId } from '../components/Evidence.tsx';
import { SampleView } from '../components/SampleView.tsx';
import { href } from '../route.ts';

const PAGE = 50;

const VERB: Readonly<Record<ReviewAction, string>> = { approve: 'Approve', reject: 'Reject', relabel: 'Relabel' };
const DONE: Readonly<Record<ReviewAction, string>> = { approve: 'Approved', reject: 'Rejected', relabel: 'Relabelled' };

interface Outcome {
  readonly taskId: string;
  readonly sampleId: string;
  readonly action: ReviewAction;
  readonly newLabel: string | null;
  readonly result: DecisionResult;
}

function decidedBy(task: ReviewTask, me: Principal): boolean {
  return (task.decisions ?? []).some((d) => d.reviewer === me.id || d.reviewer === me.name);
}

/** The most decisions that agree on one outcome: what counts toward `requiredApprovals`. */
function agreeing(task: ReviewTask): number {
  const counts = new Map<string, number>();
  for (const d of task.decisions ?? []) {
    const k = `${d.action}\u0000${d.newLabel ?? ''}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return Math.max(0, ...counts.values());
}

function suggestedLabel(task: ReviewTask, labels: readonly string[]): string {
  for (const f of task.findings) {
    const s = f.evidence?.['suggestedLabel'];
    if (typeof s === 'string' && s !== task.label && (labels.length === 0 || labels.includes(s))) return s;
  }
  return labels.find((l) => l !== task.label) ?? '';
}

const SHORTCUTS_KEY = 'trainguard.shortcuts';

/** Single-key shortcuts can be switched off (WCAG 2.1.4), e.g. for speech input; the choice is kept in this browser. */
function useShortcutsSetting(): [boolean, (on: boolean) => void] {
  const [on, setOn] = useState(() => localStorage.getItem(SHORTCUTS_KEY) !== 'off');
  const set = useCallback((v: boolean) => {
    localStorage.setItem(SHORTCUTS_KEY, v ? 'on' : 'off');
    setOn(v);
  }, []);
  return [on, set];
}

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

export function ReviewQueueView({ api, datasetId, principal }: { api: Api; datasetId: string; principal: Principal }): ReactNode {
  const [tasks, setTasks] = useState<ReviewTask[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [labels, setLabels] = useState<readonly string[]>([]);
  const [datasetName, setDatasetName] = useState(datasetId);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [lastOutcome, setLastOutcome] = useState<Outcome | null>(null);

  const load = useCallback(async () => {
    try {
      const [queue, overview] = await Promise.all([api.reviewQueue(datasetId, { limit: PAGE }), api.dataset(datasetId)]);
      setTasks(queue.tasks);
      setNext(queue.next);
      setLabels(overview.labels);
      setDatasetName(overview.name);
      setLoadError(null);
      setSelectedId((cur) => (cur !== null && queue.tasks.some((t) => t.id === cur) ? cur : (queue.tasks.find((t) => !decidedBy(t, principal)) ?? queue.tasks[0])?.id ?? null));
    } catch (err) {
      setLoadError(asApiError(err));
    }
  }, [api, datasetId, principal]);
  useEffect(() => {
    void load();
  }, [load]);

  const loadMore = async (): Promise<void> => {
    if (next === null) return;
    try {
      const page = await api.reviewQueue(datasetId, { limit: PAGE, cursor: next });
      setTasks((cur) => [...(cur ?? []), ...page.tasks.filter((t) => !(cur ?? []).some((c) => c.id === t.id))]);
      setNext(page.next);
    } catch (err) {
      setLoadError(asApiError(err));
    }
  };

  const index = tasks === null || selectedId === null ? -1 : tasks.findIndex((t) => t.id === selectedId);
  const task = index >= 0 && tasks !== null ? (tasks[index] ?? null) : null;

  const move = useCallback(
    (step: 1 | -1) => {
      if (tasks === null || tasks.length === 0) return;
      const from = index < 0 ? (step === 1 ? -1 : 0) : index;
      const to = Math.min(tasks.length - 1, Math.max(0, from + step));
      setSelectedId(tasks[to]?.id ?? null);
    },
    [tasks, index],
  );

  /** Applies a decision to the list and moves on to the next task this reviewer has not decided. */
  const onDecided = useCallback(
    (outcome: Outcome) => {
      setLastOutcome(outcome);
      if (tasks === null) return;
      const at = tasks.findIndex((t) => t.id === outcome.taskId);
      const updated = outcome.result.settled
        ? tasks.filter((t) => t.id !== outcome.taskId)
        : tasks.map((t) => (t.id === outcome.taskId ? { ...t, decisions: [...(t.decisions ?? []), { reviewer: principal.id, action: outcome.action, newLabel: outcome.newLabel }] } : t));
      const open = (t: ReviewTask): boolean => t.id !== outcome.taskId && !decidedBy(t, principal);
      const after = updated.slice(Math.max(0, at)).find(open) ?? updated.find(open);
      setTasks(updated);
      setSelectedId(after?.id ?? null);
    },
    [tasks, principal],
  );

  if (tasks === null) {
    return (
      <section>
        <h1>Review queue</h1>
        {loadError === null ? <p aria-busy="true">Loading…</p> : <ErrorBox error={loadError} />}
      </section>
    );
  }

  return (
    <section aria-labelledby="queue-title" className="queue-page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <a href={href.datasets()}>Datasets</a> <span aria-hidden="true">/</span> <a href={href.dataset(datasetId)}>{datasetName}</a> <span aria-hidden="true">/</span>{' '}
        <span>Review queue</span>
      </nav>
      <div className="title-row">
        <h1 id="queue-title">Review queue</h1>
        <button type="button" className="secondary" onClick={() => void load()}>
          Reload
        </button>
      </div>
      {loadError !== null && <ErrorBox error={loadError} />}
      {lastOutcome !== null && <OutcomeNote outcome={lastOutcome} />}
      {tasks.length === 0 ? (
        <div className="card empty" role="status" data-testid="queue-empty">
          <h2>Nothing to review</h2>
          <p>
            Every quarantined sample of this dataset has been decided. <a href={href.dataset(datasetId)}>Back to the overview</a>.
          </p>
        </div>
      ) : (
        <div className="queue">
          <aside className="task-list" aria-label="Open tasks">
            <p className="muted small">
              {tasks.length}
              {next === null ? '' : '+'} open task{tasks.length === 1 ? '' : 's'}, most severe first
            </p>
            <ol>
              {tasks.map((t, i) => (
                <li key={t.id}>
                  <button
                    type="button"
                    className={`task-item${t.id === selectedId ? ' selected' : ''}`}
                    aria-current={t.id === selectedId ? 'true' : undefined}
                    onClick={() => setSelectedId(t.id)}
                    data-testid="task-item"
                  >
                    <span className="task-line">
                      <SeverityBadge severity={t.severity} />
                      <span className="score">{t.score.toFixed(2)}</span>
                      {decidedBy(t, principal) && <span className="badge waiting" title="you decided; waiting for another reviewer">waiting</span>}
                    </span>
                    <span className="task-line small">
                      <span className="mono">{shortId(t.sampleId)}</span>
                      <span>
                        label <strong>{t.label ?? '—'}</strong>
                      </span>
                    </span>
                    <span className="muted small">
                      #{i + 1} · {[...new Set(t.findings.map((f) => f.detector))].join(', ')}
                    </span>
                  </button>
                </li>
              ))}
            </ol>
            {next !== null && (
              <button type="button" className="secondary full" onClick={() => void loadMore()}>
                Load more
              </button>
            )}
          </aside>
          {task === null ? (
            <div className="card empty" role="status">
              <h2>All caught up</h2>
              <p>You have decided every task listed here; the ones marked “waiting” need another reviewer.</p>
              {next !== null && (
                <button type="button" onClick={() => void loadMore()}>
                  Load more tasks
                </button>
              )}
            </div>
          ) : (
            <TaskCard
              key={task.id}
              api={api}
              task={task}
              position={index + 1}
              total={`${tasks.length}${next === null ? '' : '+'}`}
              labels={labels}
              principal={principal}
              onDecided={onDecided}
              onMove={move}
              onStale={() => void load()}
            />
          )}
        </div>
      )}
    </section>
  );
}

function TaskCard(props: {
  api: Api;
  task: ReviewTask;
  position: number;
  total: string;
  labels: readonly string[];
  principal: Principal;
  onDecided: (o: Outcome) => void;
  onMove: (step: 1 | -1) => void;
  onStale: () => void;
}): ReactNode {
  const { api, task, labels, principal, onDecided, onMove, onStale } = props;
  const [sample, setSample] = useState<Sample | null>(null);
  const [sampleError, setSampleError] = useState<ApiError | null>(null);
  const [reason, setReason] = useState('');
  const [relabelTo, setRelabelTo] = useState(() => suggestedLabel(task, labels));
  const [pending, setPending] = useState<ReviewAction | null>(null);
  const [nudge, setNudge] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const reasonRef = useRef<HTMLTextAreaElement>(null);
  const [shortcuts, setShortcuts] = useShortcutsSetting();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const mine = decidedBy(task, principal);
  const relabelChoices = useMemo(() => labels.filter((l) => l !== task.label), [labels, task.label]);

  useEffect(() => {
    let live = true;
    api.sample(task.datasetId, task.sampleId).then(
      (s) => live && setSample(s),
      (err: unknown) => live && setSampleError(asApiError(err)),
    );
    return () => {
      live = false;
    };
  }, [api, task.datasetId, task.sampleId]);

  useEffect(() => {
    if (labels.length > 0 && relabelTo === '') setRelabelTo(suggestedLabel(task, labels));
  }, [labels, relabelTo, task]);

  const submit = useCallback(
    async (action: ReviewAction) => {
      if (busy || mine) return;
      const why = reason.trim();
      if (why.length === 0) {
        setPending(action);
        setNudge(`Write a reason, then press Ctrl+Enter to ${action}.`);
        reasonRef.current?.focus();
        return;
      }
      if (action === 'relabel' && relabelTo === '') {
        setNudge('Choose the new label first.');
        return;
      }
      setBusy(true);
      setError(null);
      setNudge(null);
      try {
        const newLabel = action === 'relabel' ? relabelTo : null;
        const result = await api.decide(task.id, { action, reason: why, ...(newLabel === null ? {} : { newLabel }) });
        onDecided({ taskId: task.id, sampleId: task.sampleId, action, newLabel, result });
      } catch (err) {
        const e = asApiError(err);
        setError(e);
        setBusy(false);
        // Someone else settled the task meanwhile: the list is stale.
        if (e.code === 'SERVICE_NOT_FOUND' || (e.code === 'SERVICE_CONFLICT' && /already decided/.test(e.message))) onStale();
      }
    },
    [api, busy, mine, reason, relabelTo, task.id, task.sampleId, onDecided, onStale],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.target === reasonRef.current) {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          if (pending === null) setNudge(shortcuts ? 'Choose what to do: press Esc, then a (approve), r (reject) or l (relabel) — or click a button.' : 'Choose what to do with a button below.');
          else void submit(pending);
        } else if (e.key === 'Escape') {
          reasonRef.current?.blur();
        }
        return;
      }
      if (!shortcuts || isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
      const action: ReviewAction | undefined = ({ a: 'approve', r: 'reject', l: 'relabel' } as const)[e.key as 'a' | 'r' | 'l'];
      if (action !== undefined) {
        e.preventDefault();
        void submit(action);
      } else if (e.key === 'j' || e.key === 'k') {
        e.preventDefault();
        onMove(e.key === 'j' ? 1 : -1);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [pending, submit, onMove, shortcuts]);

  useEffect(() => {
    headingRef.current?.focus({ preventScroll: true });
  }, []);

  const count = agreeing(task);
  return (
    <div className="task-layout">
      <article className="card task-card" aria-labelledby="task-title" data-testid="task-card" data-task-id={task.id}>
        <header className="task-head">
          <h2 id="task-title" ref={headingRef} tabIndex={-1}>
            Task {props.position} of {props.total}
          </h2>
          <SeverityBadge severity={task.severity} />
          <span className="score">score {task.score.toFixed(3)}</span>
          <a className="push-right" href={href.provenance(task.datasetId, task.sampleId)} data-testid="provenance-link">
            Provenance
          </a>
        </header>
        <p className="muted small">
          Sample <span className="mono" title={task.sampleId}>{shortId(task.sampleId)}</span> · labelled <strong data-testid="task-label">{task.label ?? '—'}</strong>
          {task.batchId !== null && (
            <>
              {' '}
              · batch <span className="mono" title={task.batchId}>{shortId(task.batchId)}</span> row {task.rowIndex}
            </>
          )}
        </p>
        <section aria-labelledby="sample-title">
          <h3 id="sample-title">Sample</h3>
          {sampleError !== null && <ErrorBox error={sampleError} />}
          {sample === null && sampleError === null && <p aria-busy="true">Loading the sample…</p>}
          {sample !== null && <SampleView api={api} sample={sample} findings={task.findings} />}
        </section>
        <section aria-labelledby="evidence-title">
          <h3 id="evidence-title">Evidence</h3>
          <Evidence findings={task.findings} datasetId={task.datasetId} />
        </section>
      </article>

      <aside className="card decision" aria-labelledby="decision-title">
        <h3 id="decision-title">Decision</h3>
        {task.requiredApprovals > 1 && (
          <p className="approvals" data-testid="approvals">
            <strong>
              {count} of {task.requiredApprovals} approvals
            </strong>{' '}
            — two reviewers must agree on this {task.severity} finding.
          </p>
        )}
        {(task.decisions ?? []).length > 0 && (
          <ul className="small decisions">
            {(task.decisions ?? []).map((d, i) => (
              <li key={i}>
                {d.reviewer === principal.id || d.reviewer === principal.name ? 'You' : (d.reviewerName ?? d.reviewer)}: {d.action}
                {d.newLabel === null ? '' : ` → ${d.newLabel}`}
              </li>
            ))}
          </ul>
        )}
        {mine ? (
          <p className="notice" role="status">
            You have decided this task; it waits for another reviewer.
          </p>
        ) : (
          <>
            <label htmlFor="reason">
              Reason <span className="muted">(required, logged as a hash)</span>
            </label>
            <textarea
              id="reason"
              ref={reasonRef}
              value={reason}
              onChange={(e) => {
                setReason(e.target.value);
                if (nudge !== null && e.target.value.trim() !== '' && pending === null) setNudge(null);
              }}
              rows={4}
              maxLength={2000}
              required
              aria-describedby="reason-help"
              placeholder="What you saw, e.g. “trigger phrase in an otherwise ham mail”"
            />
            <p id="reason-help" className="muted small">
              {pending !== null ? `Ctrl+Enter: ${VERB[pending].toLowerCase()}.` : shortcuts ? 'Esc leaves the box; then a / r / l decide.' : 'Then choose below.'}
            </p>
            <div className="actions">
              <button type="button" className="approve" onClick={() => void submit('approve')} disabled={busy} aria-keyshortcuts="a">
                Approve <kbd>a</kbd>
              </button>
              <button type="button" className="reject" onClick={() => void submit('reject')} disabled={busy} aria-keyshortcuts="r">
                Reject <kbd>r</kbd>
              </button>
            </div>
            <div className="relabel">
              <label htmlFor="relabel-to">New label</label>
              <select id="relabel-to" value={relabelTo} onChange={(e) => setRelabelTo(e.target.value)} disabled={relabelChoices.length === 0}>
                {relabelChoices.map((l) => (
                  <option key={l} value={l}>
                    {l}
                  </option>
                ))}
              </select>
              <button type="button" className="relabel-button" onClick={() => void submit('relabel')} disabled={busy || relabelChoices.length === 0} aria-keyshortcuts="l">
                Relabel <kbd>l</kbd>
              </button>
            </div>
            {nudge !== null && (
              <p className="notice" role="status" data-testid="nudge">
                {nudge}
              </p>
            )}
          </>
        )}
        {error !== null && <ErrorBox error={error} onDismiss={() => setError(null)} />}
        <div className="muted small keys">
          <label className="inline">
            <input type="checkbox" checked={shortcuts} onChange={(e) => setShortcuts(e.target.checked)} /> Single-key shortcuts
          </label>
          {shortcuts && (
            <p>
              <kbd>a</kbd> approve · <kbd>r</kbd> reject · <kbd>l</kbd> relabel · <kbd>j</kbd> / <kbd>k</kbd> next / previous task
            </p>
          )}
        </div>
      </aside>
    </div>
  );
}

/** The server's answer to the previous decision, kept above the next task so the reviewer sees it land. */
function OutcomeNote({ outcome }: { outcome: Outcome }): ReactNode {
  const r = outcome.result;
  const what = `${DONE[outcome.action]} sample ${shortId(outcome.sampleId)}${outcome.newLabel === null ? '' : ` to “${outcome.newLabel}”`}`;
  return (
    <p className={r.settled ? 'success' : 'notice'} role="status" data-testid="decision-result">
      {r.settled
        ? `${what}: settled (log index ${r.logIndex}).`
        : `${what}: recorded (log index ${r.logIndex}), ${r.agreeing} of ${r.required} approvals — waiting for another reviewer.`}
    </p>
  );
}
