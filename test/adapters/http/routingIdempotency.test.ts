import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import express from 'express';
import * as t from 'io-ts';
import {
  sqliteIdempotencyStore,
  type IdempotencyStore,
} from '../../../adapters/http/idempotency.js';
import { problemHandler, ProblemError } from '../../../adapters/http/problem.js';
import { defineRoute, mountRoutes, type Authenticators } from '../../../adapters/http/routing.js';
import { isPromise } from '../../../application/shared/maybePromise.js';
import { recordingLogger, type LogEntry } from '../../support/logs.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';
import { waitUntil } from '../../support/waitUntil.js';

/** How long the store below takes to write: longer than a request over loopback takes. */
const WRITE_MS = 150;

const after = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The SQLite store answering as a store in a database the nodes share does: every call does its
 * work later and answers with a promise, a write well after a request could come back, so a
 * write not waited for is one a retry does not see. `failing` makes `complete` reject.
 */
const asyncStore = (
  sqlite: IdempotencyStore,
  options: { failing?: boolean } = {},
): IdempotencyStore & { readonly calls: string[] } => {
  const calls: string[] = [];
  const deferred = <T>(call: string, ms: number, work: () => T | Promise<T>): Promise<T> =>
    after(ms).then(() => {
      calls.push(call);
      return work();
    });
  return {
    calls,
    begin: (appId, key, body, now, windowMs) =>
      deferred('begin', 1, () => sqlite.begin(appId, key, body, now, windowMs)),
    complete: (appId, key, status, body) =>
      deferred('complete', WRITE_MS, () => {
        if (options.failing === true) throw new Error('the shared database went away');
        return sqlite.complete(appId, key, status, body);
      }),
    abandon: (appId, key) => deferred('abandon', WRITE_MS, () => sqlite.abandon(appId, key)),
    prune: (now) => deferred('prune', 1, () => sqlite.prune(now)),
  };
};

const authenticators: Authenticators = {
  operator: () => false,
  auditor: () => false,
  app: (secret) =>
    secret === 'tds_app_secret'
      ? { kind: 'app', appId: 'app_1', name: 'An app', status: 'active' }
      : undefined,
  recipient: () => undefined,
};

/** What the test route answers, by the body's `outcome`. */
const Thing = t.type({ n: t.number, outcome: t.keyof({ ok: null, missing: null, crash: null }) });

describe('routing: Idempotency-Key with a store that answers with promises', () => {
  let temp: TempStore;
  let server: Server;
  let base: string;
  let store: ReturnType<typeof asyncStore>;
  let entries: LogEntry[];
  /** The requests the handler ran, by body `n`. */
  let runs: number[];
  /** Holds the handler until released, when set. */
  let gate: Promise<void> | undefined;

  const start = async (options: { failing?: boolean } = {}): Promise<void> => {
    store = asyncStore(sqliteIdempotencyStore(temp.db, 'process-1'), options);
    const recorded = recordingLogger();
    entries = recorded.entries;
    const route = defineRoute(
      {
        method: 'post',
        path: '/things',
        tag: 'app',
        summary: 'Takes a thing',
        auth: 'app',
        body: Thing,
        idempotent: true,
        responses: { 202: { description: 'Taken', body: t.UnknownRecord } },
      },
      async ({ body, idempotency }) => {
        runs.push(body.n);
        if (gate !== undefined) await gate;
        if (body.outcome === 'missing') throw new ProblemError('not_found', 'no such thing');
        if (body.outcome === 'crash') throw new Error('a bug');
        return { status: 202, body: { n: body.n, run: runs.length, since: idempotency?.since } };
      },
    );
    const app = express();
    app.use(express.json());
    app.use(mountRoutes([route], authenticators, { store, logger: recorded.logger }));
    app.use(problemHandler(recorded.logger));
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  const post = async (key: string, body: unknown) => {
    const response = await fetch(`${base}/things`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer tds_app_secret',
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      replayed: response.headers.get('idempotent-replayed'),
      retryAfter: response.headers.get('retry-after'),
      body: (await response.json()) as Record<string, unknown>,
    };
  };

  beforeEach(() => {
    temp = openTempStore();
    runs = [];
    gate = undefined;
  });
  afterEach(async () => {
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
    await temp.dispose();
  });

  it('claims through the promise, and replays the first answer to a retry at once after it', async () => {
    await start();
    const first = await post('k1', { n: 1, outcome: 'ok' });
    expect(first.status).to.equal(202);
    expect(first.replayed).to.equal(null);
    expect(first.body).to.include({ n: 1, run: 1 });
    // The answer left after the (slow) write of its outcome: the retry is a replay, not in flight.
    const retry = await post('k1', { n: 1, outcome: 'ok' });
    expect(retry).to.deep.include({ status: 202, replayed: 'true', body: first.body });
    expect(runs).to.deep.equal([1]);
    expect(store.calls).to.deep.equal(['begin', 'complete', 'begin']);
    expect(isPromise(store.begin('app_1', 'k1', { other: true }, new Date()))).to.equal(true);
  });

  it('refuses the key with another body (422), running nothing', async () => {
    await start();
    expect((await post('k2', { n: 1, outcome: 'ok' })).status).to.equal(202);
    const reused = await post('k2', { n: 2, outcome: 'ok' });
    expect(reused.status).to.equal(422);
    expect(reused.body).to.include({ code: 'idempotency_key_reused' });
    expect(runs).to.deep.equal([1]);
  });

  it('answers 409 in flight while the first request runs, then replays it', async () => {
    await start();
    let release: () => void = () => undefined;
    gate = new Promise<void>((resolve) => (release = resolve));
    const first = post('k3', { n: 1, outcome: 'ok' });
    await waitUntil(
      () => runs.length,
      (n) => n === 1,
      'the first request to run',
      5_000,
      2,
    );
    const meanwhile = await post('k3', { n: 1, outcome: 'ok' });
    expect(meanwhile.status).to.equal(409);
    expect(meanwhile.retryAfter).to.equal('1');
    expect(meanwhile.body).to.include({ code: 'idempotency_in_flight' });
    release();
    const answered = await first;
    expect(answered.status).to.equal(202);
    const retry = await post('k3', { n: 1, outcome: 'ok' });
    expect(retry).to.deep.include({ status: 202, replayed: 'true', body: answered.body });
    expect(runs).to.deep.equal([1]);
  });

  it('keeps a refusal that is an answer, and releases the key of a failure before answering', async () => {
    await start();
    const missing = await post('k4', { n: 1, outcome: 'missing' });
    expect(missing.status).to.equal(404);
    expect(await post('k4', { n: 1, outcome: 'missing' })).to.deep.include({
      status: 404,
      replayed: 'true',
      body: missing.body,
    });
    const crashed = await post('k5', { n: 2, outcome: 'crash' });
    expect(crashed.status).to.equal(500);
    // Released before the 500 left: the retry runs again (with the first claim's time).
    const retried = await post('k5', { n: 2, outcome: 'crash' });
    expect(retried.status).to.equal(500);
    expect(runs).to.deep.equal([1, 2, 2]);
    expect(store.calls.filter((call) => call === 'abandon')).to.have.length(2);
  });

  it('a failure to record is logged, and the accepted answer stands', async () => {
    await start({ failing: true });
    const accepted = await post('k6', { n: 1, outcome: 'ok' });
    expect(accepted.status).to.equal(202);
    expect(accepted.body).to.include({ n: 1, run: 1 });
    const logged = entries.filter((entry) => entry.level === 'error');
    expect(logged).to.have.length(1);
    expect(logged[0]).to.include({
      msg: 'could not record the outcome of an Idempotency-Key',
      appId: 'app_1',
      key: 'k6',
    });
    // Nothing was kept: the claim is still this process's, so a retry right away is in flight.
    expect((await post('k6', { n: 1, outcome: 'ok' })).status).to.equal(409);
  });
});
