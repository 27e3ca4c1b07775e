/**
 * TEST SUPPORT ONLY (not exported from index.ts): the PostgreSQL the pg-boss tests run against, a
 * random schema per run so parallel runs never meet, and the skip rule: skip with a message when
 * PostgreSQL is unreachable on a developer machine, but run (and fail) in CI.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env.TRAINGUARD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Why the PostgreSQL tests cannot run here, or undefined when they must run. */
export async function pgSkipReason(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return undefined;
  } catch (err) {
    if (process.env.CI !== undefined) return undefined;
    return `PostgreSQL unreachable at ${new URL(PG_URL).host} (${(err as Error).message}); set CI to make this a failure`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function randomSchema(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Runs `sql` on a short-lived connection. */
export async function withClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export async function dropSchemas(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await withClient(async (client) => {
    for (const name of names) await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  });
}
