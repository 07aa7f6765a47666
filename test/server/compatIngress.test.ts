import { expect } from 'chai';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import type { CreatedApp } from '../support/httpFixtures.js';
import {
  barkPushesFor,
  bindPerson,
  createPipelineApp,
  inboxOf,
  startPipelineServer,
  waitForMessage,
  waitUntil,
  type BoundPerson,
  type InboxItem,
} from '../support/pipeline.js';
import { runCommand } from '../support/reputation.js';
import { call, type TestServer } from '../support/testServer.js';
import { isNoRoute } from '../support/noRoute.js';
import { repoRoot } from '../support/docs.js';
import { foreignOperations } from '../support/foreignProtocols.js';

/**
 * The compatible ingress (docs/api.md, "Compatible ingress"), driven the way Bark's and ntfy's
 * senders drive their servers: curl's raw UTF-8 paths and `-d` forms, percent-encoded segments
 * with slashes and `+`, bark-server's JSON `/push`, the ntfy client's `POST /:topic` with
 * `X-Title` and `X-Priority` headers, ntfy's JSON publish at the root. Every message goes through
 * the real pipeline to the Bark stand-in and the inbox.
 */

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
}

/**
 * One request exactly as written: `path` may hold raw UTF-8 (sent as bytes, as curl sends a URL
 * typed with Chinese text), headers too (as Go's http client sends them).
 */
const send = (
  server: TestServer,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const url = new URL(server.base);
    const body =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? Buffer.from(options.body, 'utf8')
          : options.body;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      // Node writes header values as Latin-1: these bytes are the UTF-8 of the text.
      headers[name] = Buffer.from(value, 'utf8').toString('latin1');
    }
    if (body !== undefined) headers['content-length'] = String(body.length);
    const outgoing = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: Buffer.from(path, 'utf8').toString('latin1'),
        headers,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> = {};
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            parsed = { text };
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: parsed });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });

const execFileAsync = promisify(execFile);

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

/** A well-formed binding key nobody holds. */
const UNKNOWN_KEY = `tbk_${'A'.repeat(43)}`;

describe('compatible ingress: Bark and ntfy senders reach a person unchanged', function () {
  this.timeout(60_000);
  let server: TestServer;
  let bark: BarkStandIn;
  let app: CreatedApp;
  let to: BoundPerson;

  const enable = async (target: CreatedApp, enabled = true): Promise<void> => {
    const reply = await call(server.base, 'PATCH', '/v1/app', {
      token: target.appSecret,
      body: { compatIngress: enabled },
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
  };

  /** The inbox item of a message, once it is there. */
  const inboxItem = (person: BoundPerson, messageId: string): Promise<InboxItem> =>
    waitUntil(
      async () => (await inboxOf(server, person.person)).find((i) => i.messageId === messageId),
      (item) => item !== undefined,
      `message ${messageId} in the inbox`,
    ) as Promise<InboxItem>;

  /** The Bark push the stand-in got for a message's body. */
  const pushWith = (person: BoundPerson, body: string) =>
    waitUntil(
      () => barkPushesFor(bark, person.deviceKey).find((push) => push['body'] === body),
      (push) => push !== undefined,
      `a Bark push with body ${body}`,
    );

  const barkId = (answer: Answer): string => {
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    expect(answer.body).to.include({ code: 200, message: 'success' });
    expect(answer.body['timestamp']).to.be.a('number');
    return String((answer.body['data'] as Record<string, unknown>)['messageId']);
  };

  const ntfyId = (answer: Answer): string => {
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    expect(answer.body).to.include({ event: 'message', topic: to.key });
    expect(answer.body['time']).to.be.a('number');
    return String(answer.body['id']);
  };

  let denylistDir: string;

  before(async () => {
    denylistDir = mkdtempSync(join(tmpdir(), 'tidings-compat-'));
    writeFileSync(join(denylistDir, 'denylist.txt'), 'forbiddenword\n');
    bark = await startBarkServer();
    server = await startPipelineServer({
      env: { TIDINGS_MODERATION_DENYLIST: join(denylistDir, 'denylist.txt') },
    });
    app = await createPipelineApp(server, 'Monitoring');
    await enable(app);
    to = await bindPerson(server, bark, app);
  });
  after(async () => {
    await server.dispose();
    await bark.close();
  });

  describe('Bark', () => {
    it('GET /:key/:title/:body with Chinese text, exactly as curl 7.88 sends the URL', async () => {
      // `curl https://host/KEY/服务器告警/磁盘已满90%25` goes out with the path's UTF-8 bytes
      // percent-encoded in lower case (curl's URL parser does that; a raw byte in a request target
      // is refused by Node's parser, see docs/api.md).
      const lower = (text: string): string => encodeURIComponent(text).toLowerCase();
      const id = barkId(
        await send(server, 'GET', `/${to.key}/${lower('服务器告警')}/${lower('磁盘已满')}90%25`),
      );
      const item = await inboxItem(to, id);
      expect(item).to.include({ title: '服务器告警', body: '磁盘已满90%' });
      const push = await pushWith(to, '磁盘已满90%');
      expect(push).to.include({ title: '服务器告警' });
    });

    it('decodes percent-encoded segments as bark-server does: %2F is a slash, + a space', async () => {
      const title = encodeURIComponent('备份/每日');
      const body = `${encodeURIComponent('完成：/var/backup')}+ok`;
      const id = barkId(await send(server, 'GET', `/${to.key}/${title}/${body}`));
      expect(await inboxItem(to, id)).to.include({
        title: '备份/每日',
        body: '完成：/var/backup ok',
      });
    });

    it('takes the query as Bark does: group is the thread, url, level; subtitle from the path', async () => {
      const id = barkId(
        await send(
          server,
          'GET',
          `/${to.key}/Order%204711/Departed/On%20the%20way?group=wo-4711&url=${encodeURIComponent('https://orders.example/4711')}&level=timeSensitive&sound=minuet`,
        ),
      );
      expect(await inboxItem(to, id)).to.include({
        title: 'Order 4711',
        subtitle: 'Departed',
        body: 'On the way',
        thread: 'wo-4711',
        url: 'https://orders.example/4711',
      });
      const push = await pushWith(to, 'On the way');
      expect(push).to.include({ level: 'timeSensitive', group: 'wo-4711' });
    });

    it('POST /push with JSON carrying device_key (bark-server API v2)', async () => {
      const answer = await send(server, 'POST', '/push', {
        headers: JSON_TYPE,
        body: JSON.stringify({
          device_key: to.key,
          title: '构建',
          body: '流水线 #42 通过',
          badge: 1,
          sound: 'minuet.caf',
          group: 'ci',
        }),
      });
      const item = await inboxItem(to, barkId(answer));
      expect(item).to.include({ title: '构建', body: '流水线 #42 通过', thread: 'ci' });
    });

    it('POST /push and POST /:key with a form, as curl -d sends it (raw UTF-8)', async () => {
      const pushed = await send(server, 'POST', '/push', {
        headers: FORM,
        body: `device_key=${to.key}&title=${encodeURIComponent('提醒')}&body=${encodeURIComponent('明天 9:00 开会')}`,
      });
      expect(await inboxItem(to, barkId(pushed))).to.include({
        title: '提醒',
        body: '明天 9:00 开会',
      });
      const keyed = await send(server, 'POST', `/${to.key}`, {
        headers: FORM,
        body: 'body=推送内容&group=分组',
      });
      expect(await inboxItem(to, barkId(keyed))).to.include({ body: '推送内容', thread: '分组' });
    });

    it('POST /:key/:body answers like GET', async () => {
      const id = barkId(await send(server, 'POST', `/${to.key}/%E4%BD%A0%E5%A5%BD`));
      expect(await inboxItem(to, id)).to.include({ body: '你好' });
    });

    it("answers bark-server's errors: empty body, unknown key, bad level", async () => {
      const empty = await send(server, 'POST', '/push', {
        headers: JSON_TYPE,
        body: JSON.stringify({ device_key: to.key, title: 'only a title' }),
      });
      expect(empty.status).to.equal(400);
      expect(empty.body).to.include({ code: 400 });
      expect(String(empty.body['message'])).to.match(/body is empty/);

      const noKey = await send(server, 'POST', '/push', {
        headers: JSON_TYPE,
        body: JSON.stringify({ body: 'x' }),
      });
      expect(noKey.body).to.include({ code: 400, message: 'device key is empty' });

      const unknown = await send(server, 'GET', `/${UNKNOWN_KEY}/hello`);
      expect(unknown.status).to.equal(400);
      expect(unknown.body).to.include({ code: 400 });
      expect(String(unknown.body['message'])).to.match(/^failed to get device token/);

      const notAKey = await send(server, 'POST', '/push', {
        headers: JSON_TYPE,
        body: JSON.stringify({ device_key: 'someBarkKey', body: 'x' }),
      });
      expect(notAKey.status).to.equal(400);
      expect(notAKey.body['message']).to.equal(unknown.body['message']);

      const level = await send(server, 'GET', `/${to.key}/hi?level=loud`);
      expect(level.status).to.equal(400);
      expect(String(level.body['message'])).to.match(/level/);
    });
  });

  describe('ntfy', () => {
    it("POST /:topic with the ntfy client's headers (X-Title in UTF-8, X-Priority 5)", async () => {
      const answer = await send(server, 'POST', `/${to.key}`, {
        headers: { 'X-Title': '数据库告警', 'X-Priority': '5', 'X-Tags': 'warning,skull' },
        body: '主库 CPU 99%',
      });
      const id = ntfyId(answer);
      expect(answer.body).to.include({ message: '主库 CPU 99%', title: '数据库告警', priority: 5 });
      expect(await inboxItem(to, id)).to.include({ title: '数据库告警', body: '主库 CPU 99%' });
      expect(await pushWith(to, '主库 CPU 99%')).to.include({ level: 'timeSensitive' });
    });

    it('PUT /:topic with short aliases (t, p=low, Click) and curl -d text sent as a form', async () => {
      const put = await send(server, 'PUT', `/${to.key}`, {
        headers: { t: 'Nightly', p: 'low', Click: 'https://ci.example/run/7' },
        body: 'Backup successful 😀',
      });
      const id = ntfyId(put);
      expect(await inboxItem(to, id)).to.include({
        title: 'Nightly',
        body: 'Backup successful 😀',
        url: 'https://ci.example/run/7',
      });
      expect(await pushWith(to, 'Backup successful 😀')).to.include({ level: 'passive' });

      // curl -d "..." sends Content-Type application/x-www-form-urlencoded: still ntfy's text.
      const curl = await send(server, 'POST', `/${to.key}`, {
        headers: FORM,
        body: 'Disk almost full & rising',
      });
      expect(await inboxItem(to, ntfyId(curl))).to.include({ body: 'Disk almost full & rising' });
    });

    it('takes an RFC 2047 encoded title and the options as query parameters', async () => {
      const encoded = `=?UTF-8?B?${Buffer.from('部署完成').toString('base64')}?=`;
      const answer = await send(server, 'POST', `/${to.key}?priority=high`, {
        headers: { Title: encoded },
        body: 'v2.3.1',
      });
      const id = ntfyId(answer);
      expect(answer.body).to.include({ title: '部署完成', priority: 4 });
      expect(await inboxItem(to, id)).to.include({ title: '部署完成', body: 'v2.3.1' });
    });

    it('POST / with JSON names the topic in the body', async () => {
      const answer = await send(server, 'POST', '/', {
        headers: JSON_TYPE,
        body: JSON.stringify({
          topic: to.key,
          message: '工单 88 已关闭',
          title: '工单',
          priority: 4,
          tags: ['white_check_mark'],
          click: 'https://orders.example/88',
        }),
      });
      const id = ntfyId(answer);
      expect(answer.body).to.include({ click: 'https://orders.example/88', priority: 4 });
      expect(await inboxItem(to, id)).to.include({ title: '工单', body: '工单 88 已关闭' });
    });

    it('schedules with X-Delay as ntfy does', async () => {
      const answer = await send(server, 'POST', `/${to.key}`, {
        headers: { 'X-Delay': '30m' },
        body: 'later',
      });
      const id = ntfyId(answer);
      const view = await waitForMessage(
        server,
        app,
        id,
        (v) => v.status === 'scheduled',
        'scheduled',
      );
      const due = Date.parse(String(view.deliverAt));
      expect(due - Date.now()).to.be.within(25 * 60_000, 31 * 60_000);
    });

    it("answers ntfy's errors: bad priority, unknown topic, bad JSON, bad delay", async () => {
      const priority = await send(server, 'POST', `/${to.key}`, {
        headers: { Priority: 'loudest' },
        body: 'x',
      });
      expect(priority.status).to.equal(400);
      expect(priority.body, JSON.stringify(priority.body)).to.include({ code: 40007, http: 400 });
      expect(priority.body['link']).to.equal('https://ntfy.sh/docs/publish/#message-priority');

      const unknown = await send(server, 'POST', `/${UNKNOWN_KEY}`, { body: 'x' });
      expect(unknown.status).to.equal(403);
      expect(unknown.body).to.include({ code: 40301, http: 403, error: 'forbidden' });

      const json = await send(server, 'POST', '/', { headers: JSON_TYPE, body: '[1,2]' });
      expect(json.body, JSON.stringify(json)).to.include({ code: 40017, http: 400 });

      const delay = await send(server, 'POST', `/${to.key}`, {
        headers: { 'X-Delay': 'tomorrow, 10am' },
        body: 'x',
      });
      expect(delay.body, JSON.stringify(delay.body)).to.include({ code: 40004, http: 400 });

      const tooFar = await send(server, 'POST', `/${to.key}`, {
        headers: { 'X-Delay': '400d' },
        body: 'x',
      });
      expect(tooFar.body, JSON.stringify(tooFar.body)).to.include({ code: 40006, http: 400 });
    });
  });

  describe('what POST /v1/messages gets applies', () => {
    it('an app without compatIngress answers exactly as an unknown key', async () => {
      const other = await createPipelineApp(server, 'Not opted in');
      const bound = await bindPerson(server, bark, other);
      const strip = (answer: Answer) => ({ status: answer.status, ...answer.body, timestamp: 0 });
      const barkOff = await send(server, 'GET', `/${bound.key}/hello`);
      const barkUnknown = await send(server, 'GET', `/${UNKNOWN_KEY}/hello`);
      expect(strip(barkOff)).to.deep.equal(strip(barkUnknown));
      const ntfyOff = await send(server, 'POST', `/${bound.key}`, { body: 'hello' });
      const ntfyUnknown = await send(server, 'POST', `/${UNKNOWN_KEY}`, { body: 'hello' });
      expect(strip(ntfyOff)).to.deep.equal(strip(ntfyUnknown));
      // And turning it on makes the same key work; off again, it is unknown again.
      await enable(other);
      expect((await send(server, 'GET', `/${bound.key}/hello`)).status).to.equal(200);
      await enable(other, false);
      expect((await send(server, 'GET', `/${bound.key}/hello`)).status).to.equal(400);
    });

    it('moderation: a denied term is rejected as it would be through the API', async () => {
      const id = barkId(await send(server, 'GET', `/${to.key}/buy%20forbiddenword%20now`));
      const view = await waitForMessage(
        server,
        app,
        id,
        (v) => v.status === 'rejected',
        'rejected',
      );
      expect(view.status).to.equal('rejected');
      const inbox = await inboxOf(server, to.person);
      expect(inbox.map((item) => item.messageId)).to.not.include(id);
    });

    it('an unbound key is 410 in both dialects, and a suspended app 403', async () => {
      const gone = await bindPerson(server, bark, app);
      const unbind = await call(server.base, 'DELETE', `/v1/me/apps/${gone.bindingId}`, {
        cookie: gone.person.cookie,
      });
      expect(unbind.status, JSON.stringify(unbind.body)).to.be.oneOf([200, 204]);
      const barkGone = await send(server, 'GET', `/${gone.key}/hello`);
      expect(barkGone.status).to.equal(410);
      expect(barkGone.body).to.include({ code: 410 });
      const ntfyGone = await send(server, 'POST', `/${gone.key}`, { body: 'hello' });
      expect(ntfyGone.status).to.equal(410);
      expect(ntfyGone.body).to.include({ http: 410 });

      const suspended = await createPipelineApp(server, 'Suspended');
      await enable(suspended);
      const bound = await bindPerson(server, bark, suspended);
      await runCommand(server, 'app', suspended.appId, {
        type: 'SuspendApp',
        data: {
          appId: suspended.appId,
          until: new Date(Date.now() + 3_600_000).toISOString(),
          reason: 'operator',
          complaintIds: ['cmp_test_manual'],
        },
        metadata: { now: new Date().toISOString() },
      });
      const refused = await waitUntil(
        () => send(server, 'GET', `/${bound.key}/hello`),
        (answer) => answer.status === 403,
        'the suspension seen',
      );
      expect(refused.body).to.include({ code: 403 });
      expect(String(refused.body['message'])).to.match(/suspended/);
      const ntfyRefused = await send(server, 'POST', `/${bound.key}`, { body: 'hello' });
      expect(ntfyRefused.body).to.include({ code: 40301, http: 403 });
    });

    it("a sender's repeat of the same request is one message; other content is another", async () => {
      const path = `/${to.key}/Retry/same%20content%20${Date.now()}`;
      const first = await send(server, 'GET', path);
      const again = await send(server, 'GET', path);
      expect(barkId(again)).to.equal(barkId(first));
      expect(again.headers['idempotent-replayed']).to.equal('true');
      const other = await send(server, 'GET', `${path}%20and%20more`);
      expect(barkId(other)).to.not.equal(barkId(first));

      const ntfyFirst = await send(server, 'POST', `/${to.key}`, { body: `ping ${Date.now()}` });
      const ntfyAgain = await send(server, 'POST', `/${to.key}`, {
        body: String(ntfyFirst.body['message']),
      });
      expect(ntfyId(ntfyAgain)).to.equal(ntfyId(ntfyFirst));
      await inboxItem(to, barkId(first));
      const inbox = await inboxOf(server, to.person, '?limit=100');
      expect(inbox.filter((item) => item.messageId === barkId(first))).to.have.length(1);

      // A sender's own Idempotency-Key holds for 24 h, whatever the window.
      const keyed = { 'Idempotency-Key': `compat-${Date.now()}` };
      const a = await send(server, 'POST', `/${to.key}`, { headers: keyed, body: 'keyed' });
      const b = await send(server, 'POST', `/${to.key}`, { headers: keyed, body: 'keyed' });
      expect(ntfyId(b)).to.equal(ntfyId(a));
      const reused = await send(server, 'POST', `/${to.key}`, { headers: keyed, body: 'changed' });
      expect(reused.status).to.equal(422);
    });

    it('the rate limit of the app holds, with Retry-After', async () => {
      const limited = await startPipelineServer({
        env: { TIDINGS_APP_RATE_BURST: '2', TIDINGS_APP_RATE_PER_SECOND: '1' },
      });
      try {
        const quick = await createPipelineApp(limited, 'Quick');
        const enabled = await call(limited.base, 'PATCH', '/v1/app', {
          token: quick.appSecret,
          body: { compatIngress: true },
        });
        expect(enabled.status).to.equal(200);
        const bound = await bindPerson(limited, undefined, quick, { device: false });
        const statuses: number[] = [];
        let last: Answer | undefined;
        for (let n = 0; n < 4; n += 1) {
          last = await send(limited, 'POST', `/${bound.key}`, { body: `burst ${n}` });
          statuses.push(last.status);
        }
        expect(statuses.slice(0, 2), JSON.stringify(last)).to.deep.equal([200, 200]);
        expect(statuses.at(-1), JSON.stringify(last)).to.equal(429);
        expect(last?.body).to.include({ http: 429 });
        expect(Number(last?.headers['retry-after'])).to.be.greaterThan(0);
      } finally {
        await limited.dispose();
      }
    });
  });

  describe("the README's curl lines", () => {
    it('reach the person as written (run with curl, when it is installed)', async function () {
      const curl = spawnSync('curl', ['--version']);
      if (curl.error !== undefined) {
        // The same requests are made with node:http above; this one checks the README's lines.
        console.log("      skipped: curl is not installed, so the README's curl lines cannot run");
        this.skip();
      }
      const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
      const section = readme.slice(readme.indexOf('## Send from existing Bark/ntfy tools'));
      const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
      const lines = block.split('\n').filter((line) => line.startsWith('curl '));
      expect(lines).to.have.length(2);
      const bodies: string[] = [];
      for (const line of lines) {
        const command = line
          .replace(/https:\/\/tidings\.example\.com/g, server.base)
          .replace(/\$KEY/g, to.key);
        // Not spawnSync: the server runs in this process and must answer meanwhile.
        const run = await execFileAsync('sh', ['-c', `${command} -s --max-time 10`]);
        const answer = JSON.parse(run.stdout) as Record<string, unknown>;
        const data = answer['data'] as Record<string, unknown> | undefined;
        bodies.push(String(data?.['messageId'] ?? answer['id']));
      }
      const [barkMessage = '', ntfyMessage = ''] = bodies;
      expect(await inboxItem(to, barkMessage)).to.include({
        title: '服务器告警',
        body: '磁盘已满',
        thread: 'ops',
      });
      expect(await inboxItem(to, ntfyMessage)).to.include({
        title: '数据库告警',
        body: '主库 CPU 99%',
      });
    });
  });

  describe('root routes', () => {
    it('/openapi.json documents each of them, and each documented one is served', async () => {
      const document = await call<{ paths: Record<string, Record<string, unknown>> }>(
        server.base,
        'GET',
        '/openapi.json',
      );
      const documented = foreignOperations(document.body).sort();
      expect(documented).to.deep.equal(
        [
          'POST /push',
          'GET /{key}/{body}',
          'POST /{key}/{body}',
          'GET /{key}/{title}/{body}',
          'POST /{key}/{title}/{body}',
          'GET /{key}/{title}/{subtitle}/{body}',
          'POST /{key}/{title}/{subtitle}/{body}',
          'POST /{key}',
          'PUT /{key}',
          'POST /',
        ].sort(),
      );
      for (const operation of documented) {
        const [method = '', path = ''] = operation.split(' ');
        const concrete = path.replace('{key}', UNKNOWN_KEY).replace(/\{[^}]+\}/g, 'x');
        const answer = await send(server, method, concrete, { body: '{}', headers: JSON_TYPE });
        // Served: the dialect's own refusal of a key nobody holds, never the "no route" answer.
        expect(answer.status, operation).to.be.oneOf([400, 403]);
        expect(isNoRoute(answer), operation).to.equal(false);
      }
    });

    it('never shadow pages or /v1, and only binding-key paths are matched', async () => {
      const login = await call(server.base, 'GET', '/login');
      expect(login.status).to.equal(200);
      expect(login.headers.get('content-type')).to.match(/^text\/html/);
      const notKey = await call(server.base, 'GET', '/someBarkKey/hello');
      expect(isNoRoute(notKey), JSON.stringify(notKey.body)).to.equal(true);
      const shortKey = await call(server.base, 'POST', '/tbk_short', { rawBody: '{}' });
      expect(isNoRoute(shortKey)).to.equal(true);
      const wrongMethod = await send(server, 'DELETE', `/${to.key}`);
      expect(wrongMethod.status).to.equal(405);
      expect(wrongMethod.headers['allow']).to.match(/POST/);
      const api = await call(server.base, 'POST', '/v1/messages', {
        token: app.appSecret,
        body: { key: to.key, body: 'through the API' },
      });
      expect(api.status).to.equal(202);
    });
  });
});
