// Guards against: a reviewer's HTML report that runs script from the scanned data (XSS through sample
// text, labels or ids), loads anything from the network, hides invisible trigger characters, or leaves
// out the noise matrix or a top finding.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ScanReport } from '../report.ts';
import { HOSTILE_SCRIPT, backdoorFixtureReport, fixtureReport } from './fixture-report.ts';
import { esc, escText, renderHtml } from './html.ts';

// Every tag the renderer itself writes. A tag outside this set can only have come from the data.
const OUR_TAGS = new Set(
  'html head meta title style body header div h1 h2 h3 p code small main section table thead tbody tr th td svg line text rect path title details summary br span input select option article ul li ol pre img figure figcaption footer script b'.split(' '),
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

// Guards against: the backdoor panels missing from a report that has trigger localisations and
// per-class backdoor scores, drawing malformed or hostile summaries from a stored report, or
// loosening the page's script policy to draw them.
describe('renderHtml backdoor panels', () => {
  const html = renderHtml(backdoorFixtureReport());
  const section = (title: string): string => {
    const at = html.indexOf(`<h2>${title}</h2>`);
    return at < 0 ? '' : html.slice(at, html.indexOf('</section>', at));
  };

  it('draws each localised trigger: mask heatmap with the box, the mean image, and the facts', () => {
    const panel = section('Backdoor triggers');
    assert.ok(panel !== '', 'panel present');
    const figures = [...panel.matchAll(/<figure class="trigger( local)?">([\s\S]*?)<\/figure>/g)];
    assert.equal(figures.length, 2);
    const [local, diffuse] = figures.map((m) => m[0]);
    assert.equal(local!.match(/<svg class="px-grid"/g)?.length, 2, 'mask and pattern');
    assert.match(local!, /<figure class="trigger local">/);
    assert.ok(local!.includes('spam') && local!.includes('3×3 at (9, 9)') && local!.includes('3 carriers') && local!.includes('3 flagged samples'));
    // The box is outlined on both images; the patch cells are the mask's strongest.
    assert.equal(local!.match(/<rect x="9" y="9" width="3" height="3" fill="none"/g)?.length, 2);
    const strongest = /<path d="([^"]*)" fill="#dc2626" fill-opacity="1.00"\/>/.exec(local!)?.[1] ?? '';
    const cells = [...strongest.matchAll(/M(\d+) (\d+)h1v1h-1z/g)].map((m) => `${m[1]},${m[2]}`);
    assert.deepEqual(cells, ['9,9', '10,9', '11,9', '9,10', '10,10', '11,10', '9,11', '10,11', '11,11']);
    assert.ok(diffuse!.includes('ham') && diffuse!.includes('diffuse') && !diffuse!.includes('fill="none"'));
  });

  it('shows a score histogram per class for each backdoor detector, poisoned classes marked', () => {
    const panel = section('Backdoor scores per class');
    assert.ok(panel !== '', 'panel present');
    for (const name of ['spectre', 'activation-clustering']) assert.ok(panel.includes(`<h3>${name} <span class="muted">1 of 3 classes judged poisoned</span></h3>`), name);
    assert.equal(panel.match(/<div class="class-score( poisoned)?">/g)?.length, 6);
    assert.equal(panel.match(/<div class="class-score poisoned">/g)?.length, 2);
    assert.ok(panel.includes('4 rows · 2 flagged · ≈ 2 estimated poisoned'));
    // spam's histogram: 4 non-empty bins, drawn hot.
    const spam = panel.slice(panel.indexOf('<div class="class-score poisoned">'));
    assert.equal(spam.slice(0, spam.indexOf('</svg>')).match(/class="bar hot"/g)?.length, 4);
  });

  it('adds no script, inline style or external reference, and leaves reports without backdoor summaries alone', () => {
    const plain = renderHtml(fixtureReport());
    assert.ok(!plain.includes('Backdoor triggers') && !plain.includes('Backdoor scores per class'));
    assert.equal([...html.matchAll(/<script/g)].length, 1);
    assert.equal(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1], /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(plain)?.[1]);
    assert.equal(html.split('style="').length, plain.split('style="').length, 'no new inline style attributes');
    assert.ok(!/https?:\/\//i.test(html) && !/\bhref=/i.test(html));
  });

  it('escapes hostile names and leaves out malformed summaries', () => {
    const base = backdoorFixtureReport();
    const evil = '<img src=x onerror=alert(5)>';
    const good = (base.summary.detectors['image-triggers']!['triggers'] as Record<string, unknown>[])[0]!;
    const classes = base.summary.detectors['spectre']!['classes'] as Record<string, unknown>[];
    const report: ScanReport = {
      ...base,
      summary: {
        ...base.summary,
        detectors: {
          'image-triggers': {
            triggers: [
              { ...good, class: evil, kind: `"><svg onload=alert(6)>` },
              { ...good, class: 'huge', width: 100000, height: 1 },
              { ...good, class: 'bad-mask', mask: ['1" onload="alert(7)'] },
              { ...good, class: 'bad-box', box: { x: '1"><script>', y: 0, width: 1, height: 1 } },
              'not an object',
            ],
          },
          spectre: {
            classes: [
              { ...classes[1], class: evil },
              { ...classes[0], class: 'bad-hist', histogram: { edges: [0, 1], counts: [1, 2, 3] } },
              { ...classes[0], class: 'bad-rows', rows: '7' },
            ],
          },
        },
      },
    };
    const out = renderHtml(report);
    for (const t of tagsOf(out)) assert.ok(OUR_TAGS.has(t), `unexpected tag <${t}>`);
    const unquoted = out.replace(/="[^"]*"/g, '=""');
    assert.ok(!/<[^>]*\son[a-z]+=/i.test(unquoted), 'no event-handler attributes');
    assert.ok(!out.includes('alert(7)') && !out.includes('<script>alert'));
    const triggers = out.slice(out.indexOf('<h2>Backdoor triggers</h2>'), out.indexOf('<h2>Backdoor scores per class</h2>'));
    assert.equal(triggers.match(/<figure class="trigger/g)?.length, 1, 'only the well-formed trigger is drawn');
    for (const name of ['huge', 'bad-mask', 'bad-box']) assert.ok(!triggers.includes(name), name);
    assert.ok(triggers.includes(esc(evil)));
    const scores = out.slice(out.indexOf('<h2>Backdoor scores per class</h2>'));
    assert.equal(scores.match(/<div class="class-score[ "]/g)?.length, 1, 'only the well-formed class is drawn');
    assert.ok(!scores.includes('bad-hist') && !scores.includes('bad-rows'));
  });
});
