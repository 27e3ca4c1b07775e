import { SEVERITIES, severityRank, sha256Hex } from '../../core/index.ts';
import type { Severity } from '../../core/index.ts';
import type { SamplePreview, ScanReport } from '../report.ts';
import { codePointName, formatCount, formatDuration, formatFixed, formatPercent, INVISIBLE_CHARS, shortId, truncate } from './format.ts';
import { countSuspicious, rankSamples } from './ranking.ts';
import type { Neighbour, RankedSample } from './ranking.ts';

export interface HtmlOptions {
  /** How many top samples get a card. Default 200. */
  readonly top?: number;
}

/*
 * Threat model: every string that comes from the scanned data (text, labels, ids, paths, column names,
 * detector evidence) is hostile. All of it goes through `esc`/`escText` into element content or quoted
 * attributes, never into a script, style or URL context; the only URLs we emit are `data:image/png`
 * built from base64 we validate first. As a second line of defence the CSP allows no network access
 * and only the one inline script whose hash it names, so an injected <script> would not run even if
 * escaping were ever missed.
 */

const LABEL_MAX = 40;

/** The client-side filter. Reads only the DOM; sample content is never placed in script context. */
const FILTER_SCRIPT = `(function () {
  var q = document.getElementById('filter');
  var sev = document.getElementById('severity');
  var shown = document.getElementById('shown');
  if (!q || !sev || !shown) return;
  var cards = Array.prototype.slice.call(document.querySelectorAll('article.card'));
  var texts = cards.map(function (c) { return c.textContent.toLowerCase(); });
  function apply() {
    var v = q.value.trim().toLowerCase();
    var min = Number(sev.value);
    var n = 0;
    cards.forEach(function (c, i) {
      var ok = (v === '' || texts[i].indexOf(v) !== -1) && Number(c.getAttribute('data-severity')) >= min;
      c.hidden = !ok;
      if (ok) n++;
    });
    shown.textContent = String(n);
  }
  q.addEventListener('input', apply);
  sev.addEventListener('change', apply);
  // Browsers restore form values on reload and back navigation; apply them.
  apply();
})();`;

/** The Content-Security-Policy of the report: nothing from the network, images only as data: URLs, only our script. */
export function reportCsp(): string {
  const hash = Buffer.from(sha256Hex(FILTER_SCRIPT), 'hex').toString('base64');
  return `default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'`;
}

/** One self-contained HTML page (opens offline, no external resources) for a reviewer: summary, charts and one card per top sample. */
export function renderHtml(report: ScanReport, options: HtmlOptions = {}): string {
  const top = options.top ?? 200;
  const ranked = rankSamples(report, top);
  const total = countSuspicious(report);
  const { input, summary } = report;
  const title = `TrainGuard scan · ${basename(input.path)}`;

  const parts: string[] = [];
  parts.push('<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">');
  // The policy is our own constant (no `"`, `<` or `&`), so it goes in unescaped and stays readable.
  parts.push(`<meta http-equiv="Content-Security-Policy" content="${reportCsp()}">`);
  parts.push('<meta name="referrer" content="no-referrer">');
  parts.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  parts.push(`<title>${escText(title)}</title>`);
  parts.push(`<style>${STYLE}</style>\n</head>\n<body>`);

  // Header.
  const flaggedShare = summary.samples > 0 ? ` (${formatPercent(summary.flagged / summary.samples)})` : '';
  parts.push('<header class="top"><div class="wrap">');
  parts.push('<div class="brand">TrainGuard · scan report</div>');
  parts.push(`<h1>${escText(input.path)}</h1>`);
  parts.push(
    `<p class="meta">${esc(input.format)} · sha256 <code title="${esc(input.sha256)}">${esc(shortId(input.sha256))}</code> · ${esc(report.createdAt)} · ${esc(report.tool.name)} ${esc(report.tool.version)}</p>`,
  );
  parts.push('<div class="stats">');
  parts.push(stat(formatCount(input.rows), 'rows read'));
  parts.push(stat(formatCount(input.skipped.count), 'rows skipped', input.skipped.count > 0 ? 'warn' : ''));
  parts.push(stat(`${formatCount(summary.flagged)}<small>${esc(flaggedShare)}</small>`, 'flagged', summary.flagged > 0 ? 'alert' : '', true));
  parts.push(stat(formatPercent(summary.estimatedNoiseRate), 'estimated noise rate'));
  parts.push(stat(formatPercent(summary.outOfFoldAccuracy), 'out-of-fold accuracy'));
  parts.push(
    stat(summary.maxSeverity ?? 'none', 'max severity', summary.maxSeverity === null ? '' : `sev-text-${summary.maxSeverity}`),
  );
  parts.push('</div></div></header>\n<main class="wrap">');

  // Charts.
  parts.push('<section class="grid">');
  parts.push(`<div class="panel"><h2>Estimated noise matrix</h2>${noiseMatrix(report)}</div>`);
  parts.push(`<div class="panel"><h2>Per class</h2>${classBars(report)}</div>`);
  parts.push('</section>');
  parts.push(`<section class="panel"><h2>Score distribution</h2>${histogram(report)}</section>`);
  parts.push(backdoorTriggers(report));
  parts.push(backdoorScores(report));
  parts.push(details(report));

  // Cards.
  parts.push('<section class="findings">');
  const heading = total === 0 ? 'No suspicious samples found' : ranked.length < total ? `Top ${formatCount(ranked.length)} of ${formatCount(total)} suspicious samples` : `${formatCount(total)} suspicious samples`;
  parts.push(`<div class="findings-head"><h2>${esc(heading)}</h2>`);
  if (ranked.length > 0) {
    const options = ['<option value="-1">all severities</option>']
      .concat(SEVERITIES.map((s) => `<option value="${severityRank(s)}">${esc(s)} and above</option>`))
      .join('');
    parts.push(
      `<div class="filter"><input id="filter" type="search" placeholder="Filter by label, id or text" aria-label="Filter cards"><select id="severity" aria-label="Minimum severity">${options}</select><span class="muted"><span id="shown">${ranked.length}</span> shown</span></div>`,
    );
  }
  parts.push('</div>');
  for (const r of ranked) parts.push(card(report, r));
  parts.push('</section>\n</main>');

  parts.push(
    `<footer class="wrap">Generated by ${esc(report.tool.name)} ${esc(report.tool.version)} · report schema ${esc(report.schema)} v${esc(String(report.version))} · this page is self-contained and makes no network requests.</footer>`,
  );
  if (ranked.length > 0) parts.push(`<script>${FILTER_SCRIPT}</script>`);
  parts.push('</body>\n</html>\n');
  return parts.join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Escaping

/** Escape for element content and double- or single-quoted attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

// Inline text (labels, ids, messages) must stay on one line, so line breaks and tabs are marked as well.
const INLINE_MARKS = new RegExp(`[\\n\\t]|${INVISIBLE_CHARS.source}`, 'gu');

/**
 * Escape untrusted text for display and make invisible characters visible (see INVISIBLE_CHARS):
 * a reviewer must see a bidi override or a zero-width trigger, not be fooled by it. With `block`
 * line breaks and tabs are kept (for <pre>); otherwise they are shown as marks too.
 */
export function escText(s: string, block = false): string {
  const text = s.replace(/\r\n?/g, '\n');
  const marks = block ? INVISIBLE_CHARS : INLINE_MARKS;
  let out = '';
  let last = 0;
  for (const m of text.matchAll(marks)) {
    const at = m.index ?? 0;
    out += esc(text.slice(last, at));
    const ch = m[0];
    const shown = ch === '\n' ? '⏎' : ch === '\t' ? '⇥' : codePointName(ch);
    out += `<span class="ctl" title="invisible character ${codePointName(ch)}">${shown}</span>`;
    last = at + ch.length;
  }
  return out + esc(text.slice(last));
}

/** A label, cut to a readable length, with the full value in the tooltip. */
function label(s: string, max = LABEL_MAX): string {
  const cut = truncate(s, max);
  return cut === s ? escText(s) : `<span title="${esc(s)}">${escText(cut)}</span>`;
}

function basename(p: string): string {
  const parts = p.split(/[\\/]/).filter((x) => x !== '');
  return parts[parts.length - 1] ?? p;
}

// ---------------------------------------------------------------------------------------------------
// Header, details

function stat(value: string, key: string, cls = '', valueIsHtml = false): string {
  return `<div class="stat${cls === '' ? '' : ` ${cls}`}"><div class="v">${valueIsHtml ? value : esc(value)}</div><div class="k">${esc(key)}</div></div>`;
}

function details(report: ScanReport): string {
  const { input, settings } = report;
  const rows: string[] = [];
  const kv = (k: string, v: string): void => {
    rows.push(`<tr><th>${esc(k)}</th><td>${v}</td></tr>`);
  };
  kv('seed', esc(String(settings.seed)));
  kv('folds', esc(String(settings.folds)));
  kv('k (neighbours)', esc(String(settings.k)));
  kv('filter by', escText(settings.filterBy));
  kv('model', escText(settings.model));
  kv('features', `${esc(String(settings.featureDim))} → ${esc(String(settings.reducedDim))} dimensions`);
  kv('detectors', settings.detectors.map((d) => escText(d)).join(', '));
  kv('fail on', esc(settings.failOn));
  kv(
    'columns',
    Object.entries(input.columns)
      .map(([name, role]) => `${label(name)} <span class="muted">(${esc(role)})</span>`)
      .join(', '),
  );
  const timings = Object.entries(report.timings)
    .map(([stage, ms]) => `${escText(stage)} ${esc(formatDuration(ms))}`)
    .join(' · ');
  kv('timings', timings === '' ? '-' : timings);

  const out = ['<section class="panel"><details><summary>Settings, timings and skipped rows</summary>'];
  out.push(`<table class="kv">${rows.join('')}</table>`);

  if (input.skipped.count > 0) {
    const codes = Object.entries(input.skipped.byCode)
      .map(([code, n]) => `<code>${escText(code)}</code> ${esc(formatCount(n))}`)
      .join(', ');
    out.push(`<h3>Skipped rows: ${esc(formatCount(input.skipped.count))}</h3><p>${codes}</p>`);
    if (input.skipped.examples.length > 0) {
      out.push('<table class="data"><thead><tr><th>where</th><th>code</th><th>message</th></tr></thead><tbody>');
      for (const ex of input.skipped.examples.slice(0, 50)) {
        const where = ex.line !== undefined ? `line ${ex.line}` : (ex.path ?? '');
        out.push(`<tr><td>${escText(where)}</td><td><code>${escText(ex.code)}</code></td><td>${escText(truncate(ex.message, 300))}</td></tr>`);
      }
      out.push('</tbody></table>');
    }
  }

  const detectorFacts = Object.entries(report.summary.detectors);
  if (detectorFacts.length > 0) {
    out.push('<h3>Detector summaries</h3><table class="kv">');
    for (const [name, facts] of detectorFacts) {
      const items = Object.entries(facts)
        .map(([k, v]) => `${escText(k)}: <code>${escText(truncate(JSON.stringify(v) ?? 'null', 200))}</code>`)
        .join('<br>');
      out.push(`<tr><th>${escText(name)}</th><td>${items === '' ? '-' : items}</td></tr>`);
    }
    out.push('</table>');
  }
  out.push('</details></section>');
  return out.join('');
}

// ---------------------------------------------------------------------------------------------------
// Charts

function noiseMatrix(report: ScanReport): string {
  const { labels, joint } = report.summary.noiseMatrix;
  if (labels.length === 0) return '<p class="muted">No noise matrix: no model was trained.</p>';
  let max = 0;
  for (const row of joint) for (const v of row) if (Number.isFinite(v) && v > max) max = v;
  const out = ['<p class="note">Share of all samples by given label (row) and estimated true label (column). Off-diagonal cells are estimated label errors.</p>'];
  out.push('<div class="scroll"><table class="heat"><thead><tr><th class="corner">given ↓ / true →</th>');
  for (const l of labels) out.push(`<th scope="col">${label(l, 16)}</th>`);
  out.push('</tr></thead><tbody>');
  labels.forEach((given, i) => {
    out.push(`<tr><th scope="row">${label(given, 16)}</th>`);
    labels.forEach((truth, j) => {
      const v = joint[i]?.[j] ?? Number.NaN;
      const a = Number.isFinite(v) && max > 0 ? Math.max(0, v / max) : 0;
      // Diagonal (labels that agree) in blue, off-diagonal (estimated errors) in red.
      const rgb = i === j ? '37,99,235' : '220,38,38';
      const fg = a > 0.55 ? '#fff' : '#111827';
      const tip = `given ${given}, true ${truth}: ${Number.isFinite(v) ? v.toFixed(6) : 'n/a'}`;
      out.push(
        `<td class="${i === j ? 'diag' : 'off'}" style="background:rgba(${rgb},${(0.06 + 0.94 * a).toFixed(3)});color:${fg}" title="${esc(tip)}">${esc(formatPercent(v))}</td>`,
      );
    });
    out.push('</tr>');
  });
  out.push('</tbody></table></div>');
  return out.join('');
}

function histogram(report: ScanReport): string {
  const { edges, counts } = report.summary.scoreHistogram;
  if (counts.length === 0) return '<p class="muted">No scores.</p>';
  const W = 1080;
  const H = 180;
  const left = 44;
  const right = 12;
  const topPad = 18;
  const bottom = 34;
  const plotW = W - left - right;
  const plotH = H - topPad - bottom;
  const max = Math.max(1, ...counts.filter((c) => Number.isFinite(c)));
  const bw = plotW / counts.length;
  const out = [`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Histogram of sample scores">`];
  out.push(`<line x1="${left}" y1="${topPad + plotH}" x2="${W - right}" y2="${topPad + plotH}" class="axis"/>`);
  out.push(`<text x="${left - 6}" y="${topPad + 4}" class="tick" text-anchor="end">${esc(formatCount(max))}</text>`);
  out.push(`<text x="${left - 6}" y="${topPad + plotH}" class="tick" text-anchor="end">0</text>`);
  counts.forEach((c, i) => {
    const n = Number.isFinite(c) ? c : 0;
    const h = n > 0 ? Math.max(1.5, (n / max) * plotH) : 0;
    const x = left + i * bw;
    const lo = edges[i] ?? Number.NaN;
    const hi = edges[i + 1] ?? Number.NaN;
    const tip = `${formatFixed(lo, 2)}–${formatFixed(hi, 2)}: ${formatCount(n)} samples`;
    out.push(
      `<rect x="${(x + 1).toFixed(2)}" y="${(topPad + plotH - h).toFixed(2)}" width="${Math.max(0.5, bw - 2).toFixed(2)}" height="${h.toFixed(2)}" class="bar${lo >= 0.5 ? ' hot' : ''}"><title>${esc(tip)}</title></rect>`,
    );
    if (counts.length <= 25 && n > 0) {
      out.push(`<text x="${(x + bw / 2).toFixed(2)}" y="${(topPad + plotH - h - 4).toFixed(2)}" class="tick" text-anchor="middle">${esc(formatCount(n))}</text>`);
    }
  });
  // X ticks: at most ~10 labels, always the first and last edge.
  const step = Math.max(1, Math.ceil(counts.length / 10));
  edges.forEach((e, i) => {
    if (i % step !== 0 && i !== edges.length - 1) return;
    const x = left + i * bw;
    out.push(`<text x="${x.toFixed(2)}" y="${topPad + plotH + 16}" class="tick" text-anchor="middle">${esc(formatFixed(e, 2))}</text>`);
  });
  out.push(`<text x="${left + plotW / 2}" y="${H - 3}" class="axis-label" text-anchor="middle">combined score (higher = more suspicious)</text>`);
  out.push('</svg>');
  return out.join('');
}

function classBars(report: ScanReport): string {
  const classes = report.summary.classes;
  if (classes.length === 0) return '<p class="muted">No classes.</p>';
  const rate = (a: number, b: number): number => (b > 0 && Number.isFinite(a) ? a / b : 0);
  const maxRate = Math.max(
    0.01,
    ...classes.map((c) => rate(c.flagged, c.count)),
    ...classes.map((c) => (Number.isFinite(c.estimatedNoiseRate) ? c.estimatedNoiseRate : 0)),
  );
  const W = 560;
  const rowH = 34;
  const labelW = 130;
  const textW = 150;
  const barW = W - labelW - textW - 10;
  const H = classes.length * rowH + 24;
  const out = ['<p class="note"><span class="swatch flag"></span>flagged share of the class <span class="swatch noise"></span>estimated noise rate</p>'];
  out.push(`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Flagged share and estimated noise rate per class">`);
  classes.forEach((c, i) => {
    const y = i * rowH + 4;
    const fr = rate(c.flagged, c.count);
    const nr = Number.isFinite(c.estimatedNoiseRate) ? Math.max(0, c.estimatedNoiseRate) : 0;
    const name = truncate(c.name, 18);
    out.push(`<text x="${labelW - 8}" y="${y + 15}" class="cls" text-anchor="end">${escText(name)}<title>${esc(c.name)}</title></text>`);
    out.push(`<rect x="${labelW}" y="${y + 3}" width="${barW}" height="13" class="track"/>`);
    out.push(`<rect x="${labelW}" y="${y + 3}" width="${((fr / maxRate) * barW).toFixed(2)}" height="13" class="flag"><title>${esc(`${c.flagged} of ${c.count} flagged`)}</title></rect>`);
    out.push(`<rect x="${labelW}" y="${y + 19}" width="${((nr / maxRate) * barW).toFixed(2)}" height="6" class="noise"><title>${esc(`estimated noise ${formatPercent(nr)}`)}</title></rect>`);
    out.push(
      `<text x="${labelW + barW + 8}" y="${y + 15}" class="tick">${esc(`${formatCount(c.flagged)} / ${formatCount(c.count)} · ${formatPercent(fr)}`)}</text>`,
    );
    out.push(`<text x="${labelW + barW + 8}" y="${y + 27}" class="tick muted">${esc(`noise ≈ ${formatPercent(nr)}`)}</text>`);
  });
  out.push(`<text x="${labelW}" y="${H - 4}" class="tick">0%</text><text x="${labelW + barW}" y="${H - 4}" class="tick" text-anchor="end">${esc(formatPercent(maxRate))}</text>`);
  out.push('</svg>');
  return out.join('');
}

// ---------------------------------------------------------------------------------------------------
// Backdoors
//
// Detector summaries are JSON that may come from a stored report, so their shape is checked here and
// anything malformed is left out rather than drawn: every number that reaches an attribute is a
// finite number formatted by us, every string goes through esc/escText.

/** Detectors whose summary has per-class score distributions (`classes`), in display order. */
export const BACKDOOR_SCORE_DETECTORS = ['spectre', 'spectral-signatures', 'activation-clustering'] as const;
/** The detector whose summary holds localised image triggers. */
export const IMAGE_TRIGGERS_SUMMARY = 'image-triggers';
/** Larger masks are not drawn (an SVG cell per pixel). */
const MAX_TRIGGER_SIDE = 64;
const MAX_TRIGGERS = 20;
const MAX_SCORE_CLASSES = 60;
const MAX_BINS = 200;
/** Colour levels of the drawn mask (opacity steps) and pattern (grey steps). */
const MASK_LEVELS = 20;
const GREY_LEVELS = 32;

interface TriggerView {
  readonly cls: string;
  readonly width: number;
  readonly height: number;
  readonly mask: readonly number[];
  readonly pattern: readonly number[];
  readonly box: { x: number; y: number; width: number; height: number } | null;
  readonly members: number;
  readonly kind: string;
  readonly carriers: number | null;
  readonly separation: number | null;
}

interface ClassScoresView {
  readonly cls: string;
  readonly rows: number;
  readonly poisoned: boolean;
  readonly estimatedPoisoned: number;
  readonly flagged: number;
  readonly edges: readonly number[];
  readonly counts: readonly number[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isCount = (v: unknown): v is number => isFiniteNumber(v) && v >= 0 && Number.isInteger(v);
const isGrid = (v: unknown, length: number): v is number[] => Array.isArray(v) && v.length === length && v.every(isFiniteNumber);

function triggerView(v: unknown): TriggerView | null {
  if (!isRecord(v)) return null;
  const { width, height, mask, pattern, box, members, kind, carriers, separation } = v;
  const cls = v['class'];
  if (typeof cls !== 'string' || !isCount(width) || !isCount(height) || width < 1 || height < 1 || width > MAX_TRIGGER_SIDE || height > MAX_TRIGGER_SIDE) return null;
  if (!isGrid(mask, width * height) || !isGrid(pattern, width * height) || !isCount(members) || typeof kind !== 'string') return null;
  let b: TriggerView['box'] = null;
  if (box !== null && box !== undefined) {
    if (!isRecord(box) || !isCount(box['x']) || !isCount(box['y']) || !isCount(box['width']) || !isCount(box['height'])) return null;
    b = { x: box['x'], y: box['y'], width: box['width'], height: box['height'] };
  }
  return {
    cls,
    width,
    height,
    mask,
    pattern,
    box: b,
    members,
    kind,
    carriers: Array.isArray(carriers) ? carriers.length : null,
    separation: isFiniteNumber(separation) ? separation : null,
  };
}

function classScoresView(v: unknown): ClassScoresView | null {
  if (!isRecord(v)) return null;
  const cls = v['class'];
  const { rows, poisoned, estimatedPoisoned, flagged, histogram: h } = v;
  if (typeof cls !== 'string' || !isCount(rows) || typeof poisoned !== 'boolean' || !isFiniteNumber(estimatedPoisoned) || !isCount(flagged) || !isRecord(h)) return null;
  const { edges, counts } = h;
  if (!Array.isArray(counts) || counts.length < 1 || counts.length > MAX_BINS || !counts.every(isFiniteNumber)) return null;
  if (!isGrid(edges, counts.length + 1)) return null;
  return { cls, rows, poisoned, estimatedPoisoned, flagged, edges, counts };
}

/** The "Backdoor triggers" panel: per localised trigger, the mask as a heatmap and the flagged samples' mean image. */
function backdoorTriggers(report: ScanReport): string {
  const raw = report.summary.detectors[IMAGE_TRIGGERS_SUMMARY]?.['triggers'];
  if (!Array.isArray(raw) || raw.length === 0) return '';
  const triggers = raw.map(triggerView).filter((t): t is TriggerView => t !== null);
  const out = ['<section class="panel"><h2>Backdoor triggers</h2>'];
  out.push(
    '<p class="note">Per class with samples flagged by the backdoor detectors: where they differ from the rest of their class (heatmap: share of flagged samples sharing a grey value that the rest of the data does not; outline: the localised trigger) and what they look like on average.</p>',
  );
  if (triggers.length === 0) out.push('<p class="muted">The trigger summaries could not be read.</p>');
  out.push('<div class="triggers">');
  for (const t of triggers.slice(0, MAX_TRIGGERS)) {
    const where = t.box === null ? 'no single region (diffuse: e.g. a blended pattern)' : `${t.box.width}×${t.box.height} at (${t.box.x}, ${t.box.y})`;
    out.push(`<figure class="trigger${t.kind === 'local' ? ' local' : ''}">`);
    out.push(`<div class="trigger-imgs">${pixelGrid(t, 'mask')}${pixelGrid(t, 'pattern')}</div>`);
    const facts = [`${formatCount(t.members)} flagged samples`, `${t.kind}`, where];
    if (t.carriers !== null && t.kind === 'local') facts.push(`${formatCount(t.carriers)} carriers`);
    if (t.separation !== null) facts.push(`peak ${formatFixed(t.separation, 2)}`);
    out.push(`<figcaption><span class="lbl">${label(t.cls, 24)}</span><br>${facts.map((f) => esc(f)).join(' · ')}</figcaption></figure>`);
  }
  out.push('</div>');
  if (triggers.length > MAX_TRIGGERS) out.push(`<p class="muted">${esc(`${triggers.length - MAX_TRIGGERS} more triggers in the JSON report.`)}</p>`);
  out.push('</section>');
  return out.join('');
}

/** One SVG cell per pixel: the mask in red on white (scaled to its peak), or the pattern in grey. */
function pixelGrid(t: TriggerView, which: 'mask' | 'pattern'): string {
  const { width: w, height: h } = t;
  const scale = Math.max(2, Math.floor(112 / Math.max(w, h)));
  const values = which === 'mask' ? t.mask : t.pattern;
  let peak = 0;
  for (const v of t.mask) peak = Math.max(peak, v);
  const title = which === 'mask' ? `mask of ${t.cls} (peak ${formatFixed(peak, 3)})` : `mean image of the flagged ${t.cls} samples`;
  const out = [
    `<svg class="px-grid" viewBox="0 0 ${w} ${h}" width="${w * scale}" height="${h * scale}" shape-rendering="crispEdges" role="img" aria-label="${esc(title)}"><title>${escText(title)}</title>`,
  ];
  out.push(`<rect x="0" y="0" width="${w}" height="${h}" fill="${which === 'mask' ? '#fff' : '#000'}"/>`);
  // One path per quantised level (a unit square per cell) keeps a 28×28 grid to a few kilobytes.
  const levels = new Map<number, string[]>();
  for (let p = 0; p < w * h; p++) {
    const v = Math.min(1, Math.max(0, values[p] ?? 0));
    const level = which === 'mask' ? Math.round((peak > 0 ? v / peak : 0) * MASK_LEVELS) : Math.round(v * GREY_LEVELS);
    // Level 0 is the background colour: most of a mask is 0 and most of a Fashion-MNIST image is black.
    if (level === 0) continue;
    const x = p % w;
    const cells = levels.get(level) ?? [];
    cells.push(`M${x} ${(p - x) / w}h1v1h-1z`);
    levels.set(level, cells);
  }
  for (const [level, cells] of [...levels.entries()].sort((a, b) => a[0] - b[0])) {
    const g = Math.round((level / GREY_LEVELS) * 255);
    const fill = which === 'mask' ? `fill="#dc2626" fill-opacity="${(level / MASK_LEVELS).toFixed(2)}"` : `fill="rgb(${g},${g},${g})"`;
    out.push(`<path d="${cells.join('')}" ${fill}/>`);
  }
  if (t.box !== null) {
    out.push(
      `<rect x="${t.box.x}" y="${t.box.y}" width="${t.box.width}" height="${t.box.height}" fill="none" stroke="${which === 'mask' ? '#111827' : '#f59e0b'}" stroke-width="${(2 / scale).toFixed(3)}"/>`,
    );
  }
  out.push('</svg>');
  return out.join('');
}

/** The "Backdoor scores per class" panel: per backdoor detector and class, a small histogram of its scores. */
function backdoorScores(report: ScanReport): string {
  const sections: string[] = [];
  for (const name of BACKDOOR_SCORE_DETECTORS) {
    const raw = report.summary.detectors[name]?.['classes'];
    if (!Array.isArray(raw) || raw.length === 0) continue;
    const classes = raw.map(classScoresView).filter((c): c is ClassScoresView => c !== null);
    if (classes.length === 0) continue;
    const poisoned = classes.filter((c) => c.poisoned).length;
    const head = poisoned === 0 ? 'no class judged poisoned' : `${poisoned} of ${classes.length} classes judged poisoned`;
    const out = [`<h3>${escText(name)} <span class="muted">${esc(head)}</span></h3><div class="class-scores">`];
    for (const c of classes.slice(0, MAX_SCORE_CLASSES)) {
      out.push(`<div class="class-score${c.poisoned ? ' poisoned' : ''}">`);
      out.push(`<div class="cs-head"><span class="lbl">${label(c.cls, 20)}</span>${c.poisoned ? ' <span class="sev small sev-high">poisoned</span>' : ''}</div>`);
      out.push(smallHistogram(c));
      out.push(
        `<div class="cs-facts muted">${esc(`${formatCount(c.rows)} rows · ${formatCount(c.flagged)} flagged · ≈ ${formatCount(c.estimatedPoisoned)} estimated poisoned`)}</div></div>`,
      );
    }
    out.push('</div>');
    if (classes.length > MAX_SCORE_CLASSES) out.push(`<p class="muted">${esc(`${classes.length - MAX_SCORE_CLASSES} more classes in the JSON report.`)}</p>`);
    sections.push(out.join(''));
  }
  if (sections.length === 0) return '';
  return `<section class="panel"><h2>Backdoor scores per class</h2><p class="note">How each backdoor detector's scores are spread within each class (higher = more likely poisoned). A poisoned class shows a separate group of high scores.</p>${sections.join('')}</section>`;
}

function smallHistogram(c: ClassScoresView): string {
  const W = 200;
  const H = 56;
  const bottom = 12;
  const plotH = H - bottom - 2;
  const max = Math.max(1, ...c.counts);
  const bw = W / c.counts.length;
  const out = [`<svg class="chart mini" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`score histogram of ${c.cls}`)}">`];
  out.push(`<line x1="0" y1="${H - bottom}" x2="${W}" y2="${H - bottom}" class="axis"/>`);
  c.counts.forEach((n, i) => {
    const v = Math.max(0, n);
    if (v === 0) return;
    // Square-root height: the few high scores of a poisoned class stay visible next to thousands of clean ones.
    const h = Math.max(1, Math.sqrt(v / max) * plotH);
    const tip = `${formatFixed(c.edges[i] ?? Number.NaN, 3)}–${formatFixed(c.edges[i + 1] ?? Number.NaN, 3)}: ${formatCount(v)} rows`;
    out.push(`<rect x="${(i * bw).toFixed(2)}" y="${(H - bottom - h).toFixed(2)}" width="${Math.max(0.5, bw - 0.5).toFixed(2)}" height="${h.toFixed(2)}" class="bar${c.poisoned ? ' hot' : ''}"><title>${esc(tip)}</title></rect>`);
  });
  out.push(`<text x="0" y="${H - 1}" class="tick">${esc(formatFixed(c.edges[0] ?? Number.NaN, 2))}</text>`);
  out.push(`<text x="${W}" y="${H - 1}" class="tick" text-anchor="end">${esc(formatFixed(c.edges[c.edges.length - 1] ?? Number.NaN, 2))}</text>`);
  out.push('</svg>');
  return out.join('');
}

// ---------------------------------------------------------------------------------------------------
// Cards

function card(report: ScanReport, r: RankedSample): string {
  const s = r.sample;
  const sev: Severity | null = r.severity;
  const sevRank = sev === null ? -1 : severityRank(sev);
  const out = [`<article class="card${sev === null ? '' : ` sev-${sev}`}" id="sample-${s.index}" data-severity="${sevRank}">`];
  out.push('<div class="card-head">');
  out.push(`<span class="rank">#${r.rank}</span>`);
  out.push(sev === null ? '<span class="sev">–</span>' : `<span class="sev sev-${sev}">${esc(sev)}</span>`);
  out.push(`<span class="score">score <b>${esc(formatFixed(s.score, 3))}</b></span>`);
  const suggested =
    s.suggestedLabel === null
      ? ''
      : ` <span class="arrow">→</span> <span class="lbl suggested">${label(s.suggestedLabel)}</span>${s.suggestedProbability === null ? '' : ` <span class="muted">p ${esc(formatFixed(s.suggestedProbability, 2))}</span>`}`;
  out.push(`<span class="labels"><span class="lbl given">${label(s.label)}</span>${suggested}</span>`);
  const shownId = s.externalId ?? shortId(s.id);
  out.push(`<span class="where">line ${esc(String(s.line))} · <code title="${esc(s.id)}">${escText(truncate(shownId, 32))}</code></span>`);
  out.push('</div>');

  if (r.findings.length > 0) {
    out.push('<ul class="msgs">');
    for (const f of r.findings) {
      out.push(
        `<li><span class="sev small sev-${f.severity}">${esc(f.severity)}</span> <b>${escText(f.detector)}</b> <code>${escText(f.code)}</code> <span class="muted">${esc(formatFixed(f.score, 3))}</span> ${escText(f.message)}</li>`,
      );
    }
    out.push('</ul>');
  }

  out.push('<div class="card-body">');
  const preview = report.previews[String(s.index)];
  out.push(`<div class="preview">${preview === undefined ? '<p class="muted">No preview.</p>' : renderPreview(preview, false)}</div>`);
  if (r.neighbours.length > 0) out.push(neighbours(report, r.neighbours, s.label, s.suggestedLabel));
  out.push('</div></article>');
  return out.join('');
}

function neighbours(report: ScanReport, list: readonly Neighbour[], given: string, suggested: string | null): string {
  const agree = list.filter((n) => n.label === given).length;
  const out = [`<div class="neighbours"><h3>Nearest neighbours <span class="muted">${agree} of ${list.length} share the given label</span></h3><ol>`];
  for (const n of list) {
    const same = n.label === given;
    const cls = same ? 'agree' : suggested !== null && n.label === suggested ? 'suggests' : 'other';
    const mark = same ? '<span class="mark" title="same label as this sample">✓ same label</span>' : '';
    const p = report.previews[String(n.index)];
    out.push(
      `<li class="nb ${cls}"><div class="nb-head"><span class="lbl">${label(n.label, 24)}</span> <span class="muted">d ${esc(formatFixed(n.distance, 3))}</span> ${mark}</div>${p === undefined ? '' : renderPreview(p, true)}<div class="nb-id muted">#${esc(String(n.index))} · <code title="${esc(n.id)}">${esc(shortId(n.id))}</code></div></li>`,
    );
  }
  out.push('</ol></div>');
  return out.join('');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function renderPreview(p: SamplePreview, small: boolean): string {
  switch (p.kind) {
    case 'text': {
      const text = small ? truncate(p.text, 160) : p.text;
      const cut = p.truncated || text !== p.text;
      return `<pre class="text${small ? ' small' : ''}">${escText(text, true)}</pre>${cut && !small ? '<p class="muted">(text truncated)</p>' : ''}`;
    }
    case 'image': {
      // Only a validated base64 payload goes into the data: URL, so the attribute cannot be broken out of.
      if (!BASE64.test(p.pngBase64) || p.pngBase64.length === 0) return '<p class="muted">Image preview not available.</p>';
      const side = Math.max(1, p.width, p.height);
      const target = small ? 72 : 168;
      const scale = Math.max(1, Math.min(16, Math.floor(target / side)));
      const w = p.width > 0 ? p.width * scale : target;
      const h = p.height > 0 ? p.height * scale : target;
      const img = `<img class="px" src="data:image/png;base64,${p.pngBase64}" width="${w}" height="${h}" alt="${esc(`image ${p.path}`)}">`;
      return small ? img : `<figure>${img}<figcaption>${escText(p.path)} · ${p.width}×${p.height}</figcaption></figure>`;
    }
    case 'row': {
      const entries = Object.entries(p.values);
      const shown = small ? entries.slice(0, 4) : entries;
      const cells = shown
        .map(([k, v]) => `<tr><th>${label(k, 24)}</th><td>${v === null ? '<span class="muted">null</span>' : escText(truncate(String(v), small ? 24 : 200))}</td></tr>`)
        .join('');
      const more = shown.length < entries.length ? `<tr><td colspan="2" class="muted">… ${entries.length - shown.length} more</td></tr>` : '';
      return `<table class="kv row${small ? ' small' : ''}">${cells}${more}</table>`;
    }
    default:
      return '';
  }
}

// ---------------------------------------------------------------------------------------------------
// Style

const STYLE = `
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f6f7f9;--panel:#fff;--accent:#2563eb;
--critical:#7e22ce;--high:#dc2626;--medium:#d97706;--low:#0891b2;--info:#6b7280}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
[hidden]{display:none!important}
.wrap{max-width:1160px;margin:0 auto;padding:0 20px}
header.top{background:#fff;border-bottom:1px solid var(--line);padding:18px 0 16px;margin-bottom:18px}
.brand{font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:var(--accent);font-weight:600}
h1{font-size:20px;margin:4px 0 2px;word-break:break-all}
h2{font-size:15px;margin:0 0 10px}
h3{font-size:13px;margin:12px 0 6px}
.meta{color:var(--muted);margin:0 0 12px}
.muted{color:var(--muted)}
.stats{display:flex;flex-wrap:wrap;gap:10px}
.stat{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:140px;background:#fafafa}
.stat .v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.stat .v small{font-size:13px;font-weight:500;color:var(--muted);margin-left:4px}
.stat .k{font-size:12px;color:var(--muted)}
.stat.warn .v{color:var(--medium)}.stat.alert .v{color:var(--high)}
.sev-text-critical .v{color:var(--critical)}.sev-text-high .v{color:var(--high)}.sev-text-medium .v{color:var(--medium)}.sev-text-low .v{color:var(--low)}
.grid{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:16px}
@media (max-width:900px){.grid{grid-template-columns:1fr}}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:14px 16px;margin-bottom:16px}
.note{color:var(--muted);font-size:12px;margin:-4px 0 10px}
.scroll{overflow:auto}
table{border-collapse:collapse}
table.heat td,table.heat th{padding:6px 8px;text-align:center;font-variant-numeric:tabular-nums;border:1px solid #fff;white-space:nowrap}
table.heat th{font-weight:600;font-size:12px;background:#f3f4f6}
table.heat th.corner{color:var(--muted);font-weight:500}
table.heat td.diag{font-weight:600}
table.kv th{text-align:left;font-weight:600;padding:3px 12px 3px 0;vertical-align:top;white-space:nowrap;color:#374151}
table.kv td{padding:3px 0;word-break:break-word}
table.data{width:100%;font-size:12.5px}
table.data th,table.data td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
details summary{cursor:pointer;font-weight:600}
details[open] summary{margin-bottom:8px}
svg.chart{width:100%;height:auto;display:block}
svg .axis{stroke:#9ca3af;stroke-width:1}
svg .tick{font-size:11px;fill:#4b5563}
svg .tick.muted{fill:#9ca3af}
svg .axis-label{font-size:11px;fill:var(--muted)}
svg .cls{font-size:12px;fill:#111827}
svg .bar{fill:#93c5fd}svg .bar.hot{fill:#f87171}
svg .track{fill:#f3f4f6}svg .flag{fill:#f97316}svg .noise{fill:#6b7280}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px;vertical-align:-1px}
.swatch.flag{background:#f97316;margin-left:0}.swatch.noise{background:#6b7280}
.findings-head{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:10px;margin:22px 0 10px}
.findings-head h2{margin:0;font-size:17px}
.filter{display:flex;gap:8px;align-items:center}
.filter input,.filter select{font:inherit;padding:6px 10px;border:1px solid #d1d5db;border-radius:6px;background:#fff}
.filter input{width:260px}
.card{background:var(--panel);border:1px solid var(--line);border-left:4px solid var(--info);border-radius:10px;padding:12px 16px;margin-bottom:12px}
.card.sev-critical{border-left-color:var(--critical)}.card.sev-high{border-left-color:var(--high)}
.card.sev-medium{border-left-color:var(--medium)}.card.sev-low{border-left-color:var(--low)}
.card-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 14px}
.rank{font-weight:700;font-size:16px;color:#374151}
.score{font-variant-numeric:tabular-nums}
.sev{display:inline-block;font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.04em;padding:1px 7px;border-radius:999px;color:#fff;background:var(--info)}
.sev.small{font-size:10px;padding:0 6px}
.sev.sev-critical{background:var(--critical)}.sev.sev-high{background:var(--high)}.sev.sev-medium{background:var(--medium)}.sev.sev-low{background:var(--low)}
.labels{font-size:15px}
.lbl{font-weight:600}
.lbl.given{color:#991b1b;background:#fef2f2;padding:0 6px;border-radius:4px}
.lbl.suggested{color:#166534;background:#f0fdf4;padding:0 6px;border-radius:4px}
.arrow{color:var(--muted)}
.where{color:var(--muted);margin-left:auto;font-size:12.5px}
ul.msgs{margin:8px 0 4px;padding-left:18px}
ul.msgs li{margin:2px 0}
.card-body{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:16px;margin-top:8px}
@media (max-width:900px){.card-body{grid-template-columns:1fr}}
pre.text{white-space:pre-wrap;overflow-wrap:anywhere;background:#f9fafb;border:1px solid var(--line);border-radius:6px;padding:8px 10px;margin:0;max-height:320px;overflow:auto}
pre.text.small{max-height:96px;overflow:hidden;font-size:11.5px;padding:4px 6px;margin-top:4px}
.ctl{display:inline-block;font-size:10px;line-height:1.2;color:#9a3412;background:#ffedd5;border:1px solid #fdba74;border-radius:3px;padding:0 2px;margin:0 1px}
img.px{image-rendering:pixelated;image-rendering:crisp-edges;border:1px solid var(--line);background:#000}
figure{margin:0}figcaption{color:var(--muted);font-size:12px;margin-top:4px;word-break:break-all}
table.kv.row{font-size:12.5px}
table.kv.small{font-size:11.5px;margin-top:4px}
.neighbours h3{margin-top:0}
.neighbours ol{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}
.nb{border:1px solid var(--line);border-radius:8px;padding:6px 8px;font-size:12.5px;background:#fff}
.nb.agree{border-color:#bfdbfe;background:#eff6ff}
.nb.suggests{border-color:#bbf7d0;background:#f0fdf4}
.nb .mark{color:#1d4ed8;font-size:11px;font-weight:600}
.nb-id{font-size:11px;margin-top:2px}
footer{color:var(--muted);font-size:12px;padding:10px 20px 30px}
.triggers{display:flex;flex-wrap:wrap;gap:14px}
figure.trigger{border:1px solid var(--line);border-radius:8px;padding:8px;background:#fafafa;max-width:260px}
figure.trigger.local{border-color:#fca5a5;background:#fef2f2}
.trigger-imgs{display:flex;gap:6px}
svg.px-grid{display:block;border:1px solid var(--line)}
.class-scores{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:10px;margin-bottom:8px}
.class-score{border:1px solid var(--line);border-radius:8px;padding:6px 8px;background:#fff}
.class-score.poisoned{border-color:#fca5a5;background:#fef2f2}
.cs-facts{font-size:11.5px}
svg.chart.mini{margin:4px 0}
`;
