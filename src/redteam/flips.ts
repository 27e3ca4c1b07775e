import type { Rng } from '../core/index.ts';
import { RedteamError } from './errors.ts';

/** The result of planting an attack: the poisoned labels and which samples were changed. */
export interface PlantedFlips {
  readonly labels: Int32Array;
  /** 1 where the label was changed by the attack. */
  readonly planted: Uint8Array;
  readonly count: number;
}

function checkRate(rate: number): void {
  if (!(rate >= 0 && rate <= 1)) throw new RedteamError('REDTEAM_BAD_RATE', `rate must be in [0, 1], got ${rate}`, { hint: 'give a fraction such as 0.1' });
}

/**
 * Symmetric (uniform) label noise: exactly round(rate·n) samples, chosen uniformly, each get a
 * label drawn uniformly from the other K − 1 classes.
 */
export function plantSymmetricFlips(labels: Int32Array, numClasses: number, rate: number, rng: Rng): PlantedFlips {
  checkRate(rate);
  const n = labels.length;
  const out = Int32Array.from(labels);
  const planted = new Uint8Array(n);
  const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const count = Math.round(rate * n);
  for (let t = 0; t < count; t++) {
    const i = order[t]!;
    const given = labels[i]!;
    let other = rng.int(numClasses - 1);
    if (other >= given) other += 1;
    out[i] = other;
    planted[i] = 1;
  }
  return { labels: out, planted, count };
}

/**
 * Targeted flips, as an attacker who wants class `from` to pass as class `to` (spam relabelled
 * ham): round(rate · |from|) samples of class `from`, chosen uniformly, get label `to`.
 */
export function plantTargetedFlips(labels: Int32Array, from: number, to: number, rate: number, rng: Rng): PlantedFlips {
  checkRate(rate);
  if (from === to || from < 0 || to < 0) throw new RedteamError('REDTEAM_UNKNOWN_CLASS', `targeted flips need two different classes, got ${from} → ${to}`);
  const members = Int32Array.from(Array.from(labels.keys()).filter((i) => labels[i] === from));
  rng.shuffle(members);
  const out = Int32Array.from(labels);
  const planted = new Uint8Array(labels.length);
  const count = Math.round(rate * members.length);
  for (let t = 0; t < count; t++) {
    const i = members[t]!;
    out[i] = to;
    planted[i] = 1;
  }
  return { labels: out, planted, count };
}
