import { expect } from 'chai';
import { openPool } from '../../../adapters/postgres/pool.js';
import { createTestSchema, requirePostgres, type TestSchema } from '../../support/postgres.js';

describe('PostgreSQL connection pool', function () {
  let schema: TestSchema;
  let started = false;
  before(async function () {
    await requirePostgres(this);
    schema = await createTestSchema();
    started = true;
  });
  after(async () => {
    if (started) await schema.drop();
  });

  /** The session settings a new connection of `url`'s pool has. */
  const settingsOf = async (url: string): Promise<Record<string, string>> => {
    const pool = openPool(url, { schema: schema.schema, max: 1 });
    try {
      const { rows } = await pool.query<Record<string, string>>(
        `SELECT current_setting('lock_timeout') AS lock_timeout,
                current_setting('idle_in_transaction_session_timeout') AS idle,
                current_schema() AS schema`,
      );
      return rows[0] ?? {};
    } finally {
      await pool.end();
    }
  };

  it('gives every connection its timeouts and schema, keeping the URL’s own options', async () => {
    const url = new URL(schema.url);
    url.searchParams.set('options', '-c statement_timeout=7000');
    const pool = openPool(url.toString(), { schema: schema.schema, max: 1 });
    try {
      const { rows } = await pool.query<{ statement: string }>(
        "SELECT current_setting('statement_timeout') AS statement",
      );
      expect(rows[0]?.statement).to.equal('7s');
    } finally {
      await pool.end();
    }
    expect(await settingsOf(schema.url)).to.deep.equal({
      lock_timeout: '15s',
      idle: '10s',
      schema: schema.schema,
    });
  });

  it('a connection string that is not a WHATWG URL (host as a parameter) gets them too', async () => {
    const url = new URL(schema.url);
    const odd = `postgres://${url.username}@${url.pathname}?host=${url.hostname}&port=${url.port || '5432'}`;
    expect(() => new URL(odd)).to.throw();
    expect(await settingsOf(odd)).to.deep.equal({
      lock_timeout: '15s',
      idle: '10s',
      schema: schema.schema,
    });
  });
});
