import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AUDIT_SIGNING_KEY_FILE } from '../../../../adapters/config/dataFolderFiles.js';
import { headSignatureCheck } from '../../../../adapters/security/headSignatures.js';
import { SIGNED_HEAD_EVENT, type SignedHead } from '../../../../domain/shared/hashChain.js';
import type { Logger } from '../../../../domain/shared/logger.js';
import {
  createApp,
  eventCount,
  expectProblem,
  registerPerson,
} from '../../../support/httpFixtures.js';
import { call, startTestServer, type TestServer } from '../../../support/testServer.js';

const run = promisify(execFile);
const AUDIT_TOKEN = 'test-audit-token-0123456789';

interface Item {
  position: string;
  eventId: string;
  stream: string;
  revision: number;
  type: string;
  data: unknown;
  metadata: { occurredAt: string; actor: { kind: string }; correlationId: string };
  dataDigest: string;
  previousHash: string;
  hash: string;
}
interface Page {
  items: Item[];
  next: string | null;
  previous: string | null;
}

describe('HTTP audit API (docs/api.md, "Auditor"; docs/audit.md)', function () {
  this.timeout(60_000);
  let server: TestServer;
  const get = <T = Record<string, unknown>>(path: string, token = AUDIT_TOKEN) =>
    call<T>(server.base, 'GET', path, { token });

  before(async () => {
    server = await startTestServer({ env: { TIDINGS_AUDIT_TOKEN: AUDIT_TOKEN } });
    // Some history: apps, people.
    for (let n = 0; n < 3; n += 1) await createApp(server, { name: `App ${n}` });
    for (let n = 0; n < 4; n += 1) await registerPerson(server);
  });
  after(async () => {
    await server.dispose();
  });

  it('answers 401 without the audit token, and with the admin token, on every audit route', async () => {
    const paths = [
      '/v1/audit/events',
      '/v1/audit/streams/x',
      '/v1/audit/verify',
      '/v1/audit/head',
      '/v1/audit/key',
      '/v1/audit/export',
    ];
    for (const path of paths) {
      expectProblem(await call(server.base, 'GET', path), 401, 'unauthorized');
      expectProblem(await get(path, server.adminToken), 401, 'unauthorized');
    }
  });

  it('lists every event oldest first with its chain fields; pages forwards and backwards', async () => {
    const total = await eventCount(server.tidings);
    const all = await get<Page>('/v1/audit/events?limit=1000');
    expect(all.status).to.equal(200);
    expect(all.body.items).to.have.length(total);
    expect(all.body.next).to.equal(null);
    const positions = all.body.items.map((item) => Number(item.position));
    expect(positions).to.deep.equal([...positions].sort((a, b) => a - b));
    const [first, second] = all.body.items;
    expect(first?.previousHash).to.equal('0'.repeat(64));
    expect(second?.previousHash).to.equal(first?.hash);
    expect(first?.metadata.actor.kind).to.be.a('string');

    const pages: Item[] = [];
    let after: string | null = null;
    let count = 0;
    do {
      const page: { body: Page } = await get<Page>(
        `/v1/audit/events?limit=3${after === null ? '' : `&after=${after}`}`,
      );
      pages.push(...page.body.items);
      after = page.body.next;
      count += 1;
    } while (after !== null && count < 100);
    expect(pages.map((item) => item.position)).to.deep.equal(all.body.items.map((i) => i.position));

    // Backwards from the end: the page just before a position, still oldest first.
    const last = all.body.items.at(-1)?.position ?? '0';
    const back = await get<Page>(`/v1/audit/events?limit=3&before=${last}`);
    expect(back.body.items.map((item) => item.position)).to.deep.equal(
      all.body.items.slice(-4, -1).map((item) => item.position),
    );
    expect(back.body.previous).to.equal(back.body.items[0]?.position);
    const further = await get<Page>(`/v1/audit/events?limit=3&before=${back.body.previous ?? ''}`);
    expect(further.body.items.map((item) => item.position)).to.deep.equal(
      all.body.items.slice(-7, -4).map((item) => item.position),
    );
  });

  it('filters by type, several types, stream and time', async () => {
    const apps = await get<Page>('/v1/audit/events?type=AppRegistered&limit=1000');
    expect(apps.body.items).to.have.length(3);
    expect(apps.body.items.every((item) => item.type === 'AppRegistered')).to.equal(true);
    const types = await get<Page>(
      '/v1/audit/events?type=AppRegistered,RecipientRegistered&limit=1000',
    );
    expect(types.body.items.map((item) => item.type)).to.include.members([
      'AppRegistered',
      'RecipientRegistered',
    ]);
    expect(types.body.items).to.have.length(7);
    const one = apps.body.items[1];
    const stream = await get<Page>(
      `/v1/audit/events?stream=${encodeURIComponent(one?.stream ?? '')}`,
    );
    expect(stream.body.items.every((item) => item.stream === one?.stream)).to.equal(true);
    expect(stream.body.items.length).to.be.greaterThan(0);
    const future = await get<Page>('/v1/audit/events?since=2999-01-01T00:00:00Z');
    expect(future.body.items).to.deep.equal([]);
    const past = await get<Page>('/v1/audit/events?until=2000-01-01T00:00:00Z');
    expect(past.body.items).to.deep.equal([]);
    // Seconds without milliseconds compare as the log writes times.
    const at = one?.metadata.occurredAt ?? '';
    const since = await get<Page>(
      `/v1/audit/events?type=AppRegistered&since=${at.replace(/\.\d{3}Z$/, 'Z')}`,
    );
    expect(since.body.items.map((item) => item.position)).to.include(one?.position);
  });

  it('refuses bad positions, limits and ranges with 400 validation_failed', async () => {
    for (const query of [
      'after=abc',
      'after=-1',
      'after=1:1',
      'before=1.5',
      'limit=0',
      'limit=1001',
      'since=yesterday',
      'since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z',
      'since=2026-01-01T00:00:00.001Z&until=2026-01-01T00:00:00Z',
      'type=a%20b',
      'colour=red',
    ]) {
      expectProblem(await get(`/v1/audit/events?${query}`), 400, 'validation_failed');
    }
    // The same instant or a later one, however many digits it is written with, is no error.
    const precise = await get<Page>(
      '/v1/audit/events?since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00.500Z',
    );
    expect(precise.status).to.equal(200);
    expectProblem(await get('/v1/audit/verify?from=9&to=3'), 400, 'validation_failed');
    expectProblem(await get('/v1/audit/verify?from=x'), 400, 'validation_failed');
  });

  it("one stream's events in revision order; an unknown stream is 404", async () => {
    const apps = await get<Page>('/v1/audit/events?type=AppRegistered&limit=1');
    const stream = apps.body.items[0]?.stream ?? '';
    const reply = await get<{ stream: string; items: Item[] }>(
      `/v1/audit/streams/${encodeURIComponent(stream)}`,
    );
    expect(reply.status).to.equal(200);
    expect(reply.body.stream).to.equal(stream);
    expect(reply.body.items.map((item) => item.revision)).to.deep.equal(
      reply.body.items.map((_, index) => index),
    );
    const before = await get<{ items: Item[] }>(
      `/v1/audit/streams/${encodeURIComponent(stream)}?until=2000-01-01T00:00:00Z`,
    );
    expect(before.body.items).to.deep.equal([]);
    expectProblem(await get('/v1/audit/streams/no-such-stream'), 404, 'not_found');
    expect((reply.body as { next?: unknown }).next).to.equal(null);
  });

  it('a stream longer than 10,000 events is listed in part, with next to go on from', async () => {
    const stream = 'audit-test-long';
    const events = Array.from({ length: 10_003 }, (_, n) => ({
      id: randomUUID(),
      type: 'AuditTestEvent',
      data: { n },
      metadata: {
        occurredAt: new Date().toISOString(),
        actor: { kind: 'system' as const, id: 'test' },
        correlationId: 'c',
        causationId: 'c',
        schemaVersion: 1,
      },
    }));
    await server.tidings.store.appendToStream(stream, events, { expectedRevision: 'no_stream' });
    const first = await get<{ items: Item[]; next: string | null }>(`/v1/audit/streams/${stream}`);
    expect(first.body.items).to.have.length(10_000);
    expect(first.body.next).to.equal(first.body.items.at(-1)?.position);
    const rest = await get<Page>(
      `/v1/audit/events?stream=${stream}&after=${first.body.next ?? ''}`,
    );
    expect(rest.body.items.map((item) => item.revision)).to.deep.equal([10_000, 10_001, 10_002]);
    expect(rest.body.next).to.equal(null);
  });

  it("an aggregate's state as of a time, folded by the decider; 404 for other streams", async () => {
    const apps = await get<Page>('/v1/audit/events?type=AppRegistered&limit=1');
    const registered = apps.body.items[0];
    const stream = registered?.stream ?? '';
    const now = await get<{ stream: string; revision: number; state: Record<string, unknown> }>(
      `/v1/audit/streams/${encodeURIComponent(stream)}/state`,
    );
    expect(now.status).to.equal(200);
    expect(now.body.revision).to.be.at.least(0);
    expect(JSON.stringify(now.body.state)).to.include('App 0');
    // Before the app was registered it had no state yet.
    const before = new Date(Date.parse(registered?.metadata.occurredAt ?? '') - 1).toISOString();
    const earlier = await get<{ revision: number; state: unknown }>(
      `/v1/audit/streams/${encodeURIComponent(stream)}/state?asOf=${before}`,
    );
    expect(earlier.body.revision).to.equal(-1);
    expect(JSON.stringify(earlier.body.state)).to.not.include('App 0');
    expectProblem(await get('/v1/audit/streams/app-nobody/state'), 404, 'not_found');
    expectProblem(await get('/v1/audit/streams/audit-heads/state'), 404, 'not_found');
    expectProblem(
      await get(`/v1/audit/streams/${encodeURIComponent(stream)}/state?asOf=soon`),
      400,
      'validation_failed',
    );
  });

  it('verifies the chain of the live log, and a range of it', async () => {
    const total = await eventCount(server.tidings);
    const report = await get<{ ok: boolean; checked: number; head: { position: string } }>(
      '/v1/audit/verify',
    );
    expect(report.body).to.include({ ok: true, checked: total });
    const range = await get<{ ok: boolean; checked: number }>('/v1/audit/verify?from=2&to=4');
    expect(range.body).to.include({ ok: true, checked: 3 });
  });

  it('signs the head with the key it publishes, appends it to the log once, and verify checks it', async () => {
    const key = await get<{ keyId: string; publicKey: string }>('/v1/audit/key');
    expect(key.body.publicKey).to.match(/^-----BEGIN PUBLIC KEY-----/);
    const mode = statSync(join(server.dir, AUDIT_SIGNING_KEY_FILE)).mode & 0o777;
    expect(mode).to.equal(0o600);
    const before = await eventCount(server.tidings);
    const head = await get<SignedHead & { position: string }>('/v1/audit/head');
    expect(head.status).to.equal(200);
    expect(head.body.keyId).to.equal(key.body.keyId);
    expect(Number(head.body.position)).to.equal(before);
    const check = headSignatureCheck(key.body.publicKey);
    expect(check({ ...head.body, position: Number(head.body.position) })).to.equal(true);
    expect(check({ ...head.body, position: Number(head.body.position) - 1 })).to.equal(false);
    // Appended once; asking again while nothing else was written gives the same head.
    expect(await eventCount(server.tidings)).to.equal(before + 1);
    const again = await get<SignedHead>('/v1/audit/head');
    expect(again.body).to.deep.equal(head.body);
    expect(await eventCount(server.tidings)).to.equal(before + 1);
    const logged = await get<Page>(`/v1/audit/events?type=${SIGNED_HEAD_EVENT}`);
    expect(logged.body.items.at(-1)?.data).to.deep.include({ hash: head.body.hash });
    const report = await get<{ ok: boolean; headsChecked: number }>('/v1/audit/verify');
    expect(report.body).to.include({ ok: true });
    expect(report.body.headsChecked).to.be.greaterThan(0);
    // After a new write the head moves, and a new head is signed.
    await registerPerson(server);
    const moved = await get<SignedHead & { position: string }>('/v1/audit/head');
    expect(Number(moved.body.position)).to.be.greaterThan(Number(head.body.position));
  });

  it('exports NDJSON that the offline verifier accepts, with the key and a kept head', async () => {
    const head = await get<SignedHead>('/v1/audit/head');
    const key = await get<{ publicKey: string }>('/v1/audit/key');
    const response = await fetch(`${server.base}/v1/audit/export`, {
      headers: { authorization: `Bearer ${AUDIT_TOKEN}` },
    });
    expect(response.headers.get('content-type')).to.match(/^application\/x-ndjson/);
    const text = await response.text();
    const lines = text.trim().split('\n');
    expect(lines).to.have.length(await eventCount(server.tidings));
    const files = {
      log: join(server.dir, 'export.ndjson'),
      key: join(server.dir, 'key.pem'),
      head: join(server.dir, 'head.json'),
    };
    writeFileSync(files.log, text);
    writeFileSync(files.key, key.body.publicKey);
    writeFileSync(files.head, JSON.stringify(head.body));
    const verify = (file: string) =>
      run('npx', [
        'tsx',
        'bin/audit.ts',
        'verify',
        '--file',
        file,
        '--key',
        files.key,
        '--head',
        files.head,
      ]).then(
        (out) => ({ code: 0, stdout: out.stdout }),
        (error: unknown) => {
          const failed = error as { code: number; stdout: string };
          return { code: failed.code, stdout: failed.stdout };
        },
      );
    const good = await verify(files.log);
    expect(good.stdout).to.match(/^ok: \d+ events verified/);
    expect(good.stdout).to.include('the kept head is unchanged');
    expect(good.code).to.equal(0);

    // One event's data edited in the file: the verifier names its position.
    const edited = lines.map((line, index) => {
      if (index !== 3) return line;
      const item = JSON.parse(line) as Item;
      return JSON.stringify({ ...item, data: { edited: true } });
    });
    const bad = join(server.dir, 'edited.ndjson');
    writeFileSync(bad, `${edited.join('\n')}\n`);
    const refused = await verify(bad);
    expect(refused.code).to.equal(1);
    const position = (JSON.parse(lines[3] ?? '{}') as Item).position;
    expect(refused.stdout).to.include(`FAILED at position ${position}`);

    // A time-bounded export is one unbroken stretch of the log.
    const since = (JSON.parse(lines[2] ?? '{}') as Item).metadata.occurredAt;
    const part = await fetch(`${server.base}/v1/audit/export?since=${since}`, {
      headers: { authorization: `Bearer ${AUDIT_TOKEN}` },
    });
    const partText = await part.text();
    const partItems = partText
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Item);
    const firstAtOrAfter = lines.findIndex(
      (line) => (JSON.parse(line) as Item).metadata.occurredAt >= since,
    );
    // It starts at the first event at or after since and runs, without a gap, to the head.
    expect(partItems.map((item) => item.position)).to.deep.equal(
      lines.slice(firstAtOrAfter).map((line) => (JSON.parse(line) as Item).position),
    );
    const partFile = join(server.dir, 'part.ndjson');
    writeFileSync(partFile, partText);
    const partReport = await run('npx', [
      'tsx',
      'bin/audit.ts',
      'verify',
      '--file',
      partFile,
      '--key',
      files.key,
    ]);
    expect(partReport.stdout).to.match(/^ok: \d+ events verified/);
  });
});

describe('HTTP audit API: a lost signing key', () => {
  it('makes a new key, warns, and still verifies the heads the old key signed', async () => {
    const warnings: string[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      warn(message) {
        warnings.push(message);
      },
      error() {},
      child() {
        return this;
      },
    };
    let server = await startTestServer({ env: { TIDINGS_AUDIT_TOKEN: AUDIT_TOKEN }, logger });
    try {
      const auth = { authorization: `Bearer ${AUDIT_TOKEN}` };
      const read = async <T>(path: string): Promise<T> =>
        (await (await fetch(`${server.base}${path}`, { headers: auth })).json()) as T;
      const before = await read<SignedHead>('/v1/audit/head');
      await server.stop();
      rmSync(join(server.dir, AUDIT_SIGNING_KEY_FILE));
      server = await server.restart();
      expect(warnings.some((line) => line.includes('signed with another key'))).to.equal(true);
      const key = await read<{ keyId: string }>('/v1/audit/key');
      expect(key.keyId).to.not.equal(before.keyId);
      // The last head is the old key's: a new one is signed with the new key, not handed back.
      const after = await read<SignedHead>('/v1/audit/head');
      expect(after.keyId).to.equal(key.keyId);
      const report = await read<{ ok: boolean; headsChecked: number }>('/v1/audit/verify');
      expect(report).to.deep.include({ ok: true, headsChecked: 2 });
    } finally {
      await server.dispose();
    }
  });
});
