// Guards against: a reviewer's HTML report that runs script from the scanned data (XSS through sample
// text, labels or ids), loads anything from the network, hides invisible trigger characters, or leaves
// out the noise matrix or a top finding.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ScanReport } from '../report.ts';
import { HOSTILE_SCRIPT, fixtureReport } from './fixture-report.ts';
import { esc, escText, renderHtml } from './html.ts';

// Every tag the renderer itself writes. A tag outside this set can only have come from the data.
const OUR_TAGS = new Set(
  'html head meta title style body header div h1 h2 h3 p code small main section table thead tbody tr th td svg line text rect title details summary br span input select option article ul li ol pre img figure figcaption footer script b'.split(' '),
);

function tagsOf(html: string): string[] {
  return [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]!.toLowerCase());
}

function hostileReport(): ScanReport {
  const base = fixtureReport();
  const evil = '<img src=x onerror=alert(2)>';
  return {
    ...base,
    input: { ...base.input, path: `data/${evil}.csv`, columns: { [evil]: 'text', label: 'label' } },
    summary: {
      ...base.summary,
      classes: base.summary.classes.map((c, i) => (i === 0 ? { ...c, name: evil } : c)),
      noiseMatrix: { ...base.summary.noiseMatrix, labels: [evil, 'spam', 'promo'] },
      detectors: { 'label-issues': { note: evil } },
    },
    samples: base.samples.map((s) => (s.index === 2 ? { ...s, label: evil, suggestedLabel: `"'><svg onload=alert(3)>` } : s)),
    previews: {
      ...base.previews,
      '7': { kind: 'image', label: 'spam', path: evil, pngBase64: '" onerror="alert(4)', width: 12, height: 12 },
      '9': { kind: 'row', label: 'promo', values: { [evil]: evil } },
    },
  };
}

describe('renderHtml', () => {
  const html = renderHtml(fixtureReport());

  it('is a self-contained document', () => {
    assert.ok(html.startsWith('<!doctype html>\n<html lang="en">'));
    assert.ok(html.trimEnd().endsWith('</html>'));
    assert.ok(!/https?:\/\//i.test(html), 'no http(s) references');
    assert.ok(!/\bhref=/i.test(html), 'no links');
    for (const m of html.matchAll(/\bsrc="([^"]*)"/g)) assert.ok(m[1]!.startsWith('data:image/png;base64,'), m[1]);
    assert.ok(!/@import|url\(/i.test(html), 'no CSS fetches');
  });

  it('runs only its own script, pinned by hash in the CSP', () => {
    assert.ok(!html.includes('<script>alert(1)'));
    assert.ok(html.includes(esc(HOSTILE_SCRIPT)));
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    assert.equal(tagsOf(html).filter((t) => t === 'script').length, 2, 'one opening and one closing tag');
    const hash = createHash('sha256').update(scripts[0]![1]!).digest('base64');
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
    assert.ok(csp.includes("default-src 'none'"));
    assert.ok(csp.includes(`script-src 'sha256-${hash}';`), csp);
    assert.ok(!csp.includes('unsafe-eval') && !/script-src[^;]*unsafe-inline/.test(csp));
  });

  it('shows the header numbers and the noise matrix cells', () => {
    for (const s of ['data/messages.csv', '>10<', 'rows read', '30.0%', '70.0%', 'out-of-fold accuracy']) assert.ok(html.includes(s), s);
    const heat = /<table class="heat">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
    const cells = [...heat.matchAll(/<td [^>]*>([^<]*)<\/td>/g)].map((m) => m[1]);
    assert.deepEqual(cells, ['30.0%', '10.0%', '0.0%', '10.0%', '30.0%', '0.0%', '0.0%', '10.0%', '10.0%']);
    assert.match(heat, /title="given ham, true spam: 0\.100000"/);
  });

  it('has a card for each top sample, in score order, with messages, previews and neighbours', () => {
    const order = [...html.matchAll(/<article class="card[^"]*" id="sample-(\d+)"/g)].map((m) => Number(m[1]));
    assert.deepEqual(order, [2, 7, 9]);
    const report = fixtureReport();
    for (const f of report.findings) assert.ok(html.includes(escText(f.message)), f.message);
    const card2 = html.slice(html.indexOf('id="sample-2"'), html.indexOf('id="sample-7"'));
    assert.ok(card2.includes('You have WON a FREE cruise'), 'neighbour preview');
    assert.ok(card2.includes('1 of 3 share the given label'));
    assert.equal(card2.split('✓ same label').length - 1, 1, 'only the agreeing neighbour is marked');
    assert.ok(card2.includes('<pre class="text">WIN a FREE cruise!!! &lt;script&gt;'));
    const card7 = html.slice(html.indexOf('id="sample-7"'), html.indexOf('id="sample-9"'));
    assert.match(card7, /<img class="px" src="data:image\/png;base64,[A-Za-z0-9+/=]+" width="168" height="168"/);
    const card9 = html.slice(html.indexOf('id="sample-9"'));
    assert.ok(card9.includes('<th>subject</th><td>Spring sale</td>'));
  });

  it('makes invisible characters visible', () => {
    assert.ok(!html.includes('\u202E') && !html.includes('\u200B'));
    assert.ok(html.includes('title="invisible character U+202E"'));
    assert.ok(html.includes('>U+200B<'));
  });

  it('never turns hostile strings into markup', () => {
    const out = renderHtml(hostileReport());
    for (const t of tagsOf(out)) assert.ok(OUR_TAGS.has(t), `unexpected tag <${t}>`);
    // Our attribute values are double-quoted and escaped; outside them no event-handler attribute may appear.
    const unquoted = out.replace(/="[^"]*"/g, '=""');
    assert.ok(!/<[^>]*\son[a-z]+=/i.test(unquoted), 'no event-handler attributes');
    assert.ok(out.includes('Image preview not available.'), 'invalid base64 is not emitted');
    assert.ok(!out.includes('alert(4)'));
  });

  it('honours top and handles a clean report', () => {
    assert.equal(renderHtml(fixtureReport(), { top: 1 }).split('<article').length - 1, 1);
    const base = fixtureReport();
    const clean = renderHtml({ ...base, samples: base.samples.map((s) => ({ ...s, flagged: false })), findings: [] });
    assert.ok(clean.includes('No suspicious samples found'));
    assert.ok(!clean.includes('<script'));
  });
});
