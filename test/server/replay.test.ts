import { expect } from 'chai';
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DATABASE_FILE } from '../../adapters/sqlite/database.js';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import { allProjections } from '../../projections/index.js';
import { call, startTestServer, type TestServer } from '../support/testServer.js';
import {
  bindPerson,
  createPipelineApp,
  deliveryOn,
  getMessage,
  sendAccepted,
  startPipelineServer,
  waitUntil,
} from '../support/pipeline.js';

const run = promisify(execFile);
const AUDIT_TOKEN = 'test-audit-token-0123456789abcdef';

/** Every read model's rows, table by table, in a stable order; and the number of events. */
const readModelRows = (dir: string): { events: number; tables: Record<string, string[]> } => {
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
  try {
    const tables: Record<string, string[]> = {};
    for (const table of allProjections.flatMap((projection) => projection.tables)) {
      tables[table] = db
        .prepare(`SELECT * FROM "${table}"`)
        .all()
        .map((row) => JSON.stringify(row))
        .sort();
    }
    const events = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()?.n ?? 0;
    return { events, tables };
  } finally {
    db.close();
  }
};

describe('point-in-time replay (npm run replay -- --until, TIDINGS_READ_ONLY=1)', () => {
  let bark: BarkStandIn;
  let live: TestServer;
  const out = join(mkdtempSync(join(tmpdir(), 'tidings-replay-')), 'as-of');
  before(async () => {
    bark = await startBarkServer();
    live = await startPipelineServer({ env: { TIDINGS_AUDIT_TOKEN: AUDIT_TOKEN } });
  });
  after(async () => {
    await live.dispose();
    await bark.close();
    rmSync(join(out, '..'), { recursive: true, force: true });
  });

  it('rebuilds the read models as a live run stopped then had them, and serves them read-only', async () => {
    const app = await createPipelineApp(live);
    const person = await bindPerson(live, bark, app);
    const before = await sendAccepted(live, app, { key: person.key, body: 'before the cut' });
    await waitUntil(
      () => getMessage(live, app, before),
      (view) => deliveryOn(view, 'bark')?.status === 'delivered',
      'the first push',
    );
    // A live run stopped at `cut`: its read models as they are then.
    await live.stop();
    const atCut = readModelRows(live.dir);
    const cut = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    live = await live.restart();
    const later = await sendAccepted(live, app, { key: person.key, body: 'after the cut' });
    await waitUntil(
      () => getMessage(live, app, later),
      (view) => deliveryOn(view, 'bark')?.status === 'delivered',
      'the second push',
    );

    // Replayed while the live server runs on, from its folder, which it leaves alone.
    const liveEvents = readModelRows(live.dir).events;
    const replay = await run(
      'npx',
      ['tsx', 'bin/replay.ts', '--until', cut, '--out', out, '--data-dir', live.dir],
      { env: { ...process.env, INIT_CWD: process.cwd() } },
    );
    expect(replay.stdout).to.include(`the log up to ${cut}: ${atCut.events} events`);
    expect(replay.stdout).to.include('TIDINGS_READ_ONLY=1');
    const replayed = readModelRows(out);
    expect(replayed.events).to.equal(atCut.events);
    expect(replayed.tables).to.deep.equal(atCut.tables);
    expect(readModelRows(live.dir).events).to.equal(liveEvents);

    const past = await startTestServer({
      dir: out,
      env: { TIDINGS_AUDIT_TOKEN: AUDIT_TOKEN, TIDINGS_READ_ONLY: '1' },
    });
    try {
      const audit = { token: AUDIT_TOKEN };
      const verify = await call<{ ok: boolean; checked: number }>(
        past.base,
        'GET',
        '/v1/audit/verify',
        audit,
      );
      expect(verify.body).to.deep.include({ ok: true, checked: atCut.events });
      expect((await getMessage(past, app, before)).status).to.equal('delivered');
      const missing = await call(past.base, 'GET', `/v1/messages/${later}`, {
        token: app.appSecret,
      });
      expect(missing.status).to.equal(404);
      const write = await call<{ code: string }>(past.base, 'POST', '/v1/messages', {
        token: app.appSecret,
        body: { key: person.key, body: 'into the past' },
      });
      expect(write.status).to.equal(403);
      expect(write.body.code).to.equal('read_only');
      // Nothing it did wrote to its log, and the pending work of the past was not done again.
      expect(readModelRows(out).events).to.equal(atCut.events);
      expect(bark.notificationsOf(person.deviceKey)).to.have.length(2);
    } finally {
      await past.stop();
    }
  });

  it('refuses a folder that is not empty and a time that is not one, saying so', async () => {
    const refused = await run(
      'npx',
      ['tsx', 'bin/replay.ts', '--until', 'yesterday', '--out', out],
      {
        env: { ...process.env, TIDINGS_DATA_DIR: live.dir },
      },
    ).catch((error: unknown) => error as { code: number; stderr: string });
    expect(refused).to.include({ code: 2 });
    expect((refused as { stderr: string }).stderr).to.include('is not an ISO 8601 time');
    const notEmpty = await run(
      'npx',
      ['tsx', 'bin/replay.ts', '--until', new Date().toISOString(), '--out', live.dir],
      { env: { ...process.env, TIDINGS_DATA_DIR: live.dir } },
    ).catch((error: unknown) => error as { code: number; stderr: string });
    expect((notEmpty as { stderr: string }).stderr).to.include('is not empty');
  });
});
