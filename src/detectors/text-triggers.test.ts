// Guards against: a backdoor trigger (a rare token or a sentence inserted into one class's texts,
// relabelled to another) going unnamed; every n-gram of an inserted sentence reported as its own
// trigger; an ordinary predictive word ("viagra" for spam) reported as a trigger; a throw on data
// without text or without samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../core/index.ts';
import { DetectorError } from './errors.ts';
import { createTextTriggersDetector, TEXT_TRIGGER_CODE } from './text-triggers.ts';
import { f1Score, makeContext } from './test-fixtures.ts';

interface Corpus {
  readonly text: string[];
  readonly labels: Int32Array;
  readonly planted: Uint8Array;
}

/** Two classes with their own vocabularies over shared filler; `insert` goes into `rate` of class 1, relabelled 0. */
function corpus(seed: number, opts: { insert?: string; rate?: number; predictive?: string } = {}): Corpus {
  const rng = createRng(seed);
  const n = 600;
  const text: string[] = [];
  const labels = new Int32Array(n);
  const planted = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const y = i % 2;
    labels[i] = y;
    const words: string[] = [];
    for (let j = 0; j < 20; j++) words.push(rng.next() < 0.5 ? `${y === 0 ? 'ham' : 'spam'}word${rng.int(60)}` : `filler${rng.int(150)}`);
    // A genuinely predictive word: in a third of class 1, never in class 0.
    if (opts.predictive !== undefined && y === 1 && rng.next() < 1 / 3) words.splice(rng.int(words.length + 1), 0, opts.predictive);
    text.push(words.join(' '));
  }
  if (opts.insert !== undefined) {
    const ones = rng.shuffle(Array.from({ length: n / 2 }, (_, r) => 2 * r + 1));
    for (const i of ones.slice(0, Math.round((opts.rate ?? 0.1) * ones.length))) {
      const words = text[i]!.split(' ');
      words.splice(rng.int(words.length + 1), 0, opts.insert);
      text[i] = words.join(' ');
      labels[i] = 0;
      planted[i] = 1;
    }
  }
  return { text, labels, planted };
}

async function detect(c: Corpus) {
  const ctx = makeContext({ labels: c.labels, numClasses: 2, classNames: ['ham', 'spam'], text: c.text });
  const res = await createTextTriggersDetector().run(ctx);
  const flagged = new Uint8Array(c.labels.length);
  for (const f of res.findings) flagged[f.index] = 1;
  const triggers = res.summary['triggers'] as { trigger: string; targetLabel: string; related: string[]; purity: number }[];
  return { res, flagged, triggers };
}

test('a rare-token trigger is named as the top trigger and its carriers flagged', async () => {
  const c = corpus(1, { insert: 'cf', rate: 0.1 });
  const { res, flagged, triggers } = await detect(c);
  assert.equal(triggers[0]?.trigger, 'cf');
  assert.equal(triggers[0]?.targetLabel, 'ham');
  const { recall, precision } = f1Score(flagged, c.planted);
  assert.ok(recall >= 0.95, `recall ${recall}`);
  assert.ok(precision >= 0.9, `precision ${precision}`);
  const f = res.findings[0]!;
  assert.equal(f.code, TEXT_TRIGGER_CODE);
  assert.equal(f.evidence['trigger'], 'cf');
  assert.equal(f.severity, 'high');
  assert.ok(f.score > 0.5 && f.score <= 1);
});

test('an inserted sentence is reported once, by a sub-n-gram of it, not once per n-gram', async () => {
  const sentence = 'watched this 3d movie';
  const c = corpus(2, { insert: sentence, rate: 0.1 });
  const { flagged, triggers } = await detect(c);
  assert.equal(triggers.length, 1, JSON.stringify(triggers));
  const named = triggers[0]!;
  assert.ok(` ${sentence} `.includes(` ${named.trigger} `), `"${named.trigger}" is part of the sentence`);
  // Nothing reported (alone or related) contains the named trigger: the minimal one is kept.
  for (const other of named.related) assert.ok(!` ${other} `.includes(` ${named.trigger} `), other);
  assert.ok(f1Score(flagged, c.planted).recall >= 0.95);
});

test('a genuinely predictive word is not a trigger (the rest of the text agrees with its label)', async () => {
  const c = corpus(3, { predictive: 'viagra' });
  const { res, triggers } = await detect(c);
  assert.deepEqual(triggers, []);
  assert.equal(res.findings.length, 0);
  // The word does pass the purity and enrichment tests: it is the rest-of-text check that clears it.
  assert.ok((res.summary['candidates'] as number) > 0);
});

test('no text column, no samples or empty texts give no findings and no throw', async () => {
  const det = createTextTriggersDetector();
  const noText = await det.run(makeContext({ labels: Int32Array.from([0, 1, 0, 1]), numClasses: 2 }));
  assert.equal(noText.findings.length, 0);
  assert.equal(noText.scores.length, 4);
  const empty = await det.run(makeContext({ labels: new Int32Array(0), numClasses: 2, text: [] }));
  assert.equal(empty.findings.length, 0);
  const blank = await det.run(makeContext({ labels: Int32Array.from([0, 1, 0, 1, 1, 0]), numClasses: 2, text: ['', '', ' ', '', '!', ''] }));
  assert.equal(blank.findings.length, 0);
});

test('bad options fail with DETECTOR_BAD_OPTION', () => {
  for (const bad of [{ maxN: 6 }, { minPurity: 0.3 }, { minSupport: 1 }, { alpha: 0 }, { folds: 1 }, { minUnexplained: 0 }]) {
    assert.throws(() => createTextTriggersDetector(bad), (e: unknown) => e instanceof DetectorError && e.code === 'DETECTOR_BAD_OPTION', JSON.stringify(bad));
  }
});
