import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  APP_ID as WECHAT_APP_ID,
  APP_SECRET as WECHAT_APP_SECRET,
  closedPortBase,
  startFakeWechat,
  type FakeWechat,
} from '../../devtools/wechatServer.js';
import { linesOf, projectRoot, runTsx, type CommandRun } from '../support/commands.js';
import type { CreatedApp } from '../support/httpFixtures.js';
import {
  bindWithoutDevice,
  createPipelineApp,
  deliver,
  sendAccepted,
  startPipelineServer,
  waitForStatus,
  type BoundPerson,
} from '../support/pipeline.js';
import { adminApp, complain, waitForApp } from '../support/reputation.js';
import {
  ADMIN_TOKEN,
  call,
  publicExampleResolver,
  type TestServer,
} from '../support/testServer.js';

/**
 * `tidings` (bin/tidings.ts) as an operator runs it: a child process against a real server over
 * HTTP, its output (tables, `key: value` lines, `--json`), its exit codes, and where it finds
 * its tokens (docs/cli.md).
 */

interface ExportItem {
  readonly position: string;
  readonly hash: string;
  readonly data: unknown;
}

/** The column each header starts at (headers are separated by two spaces or more). */
const columnStarts = (line: string): number[] => [
  0,
  ...[...line.matchAll(/ {2,}(?=\S)/g)].map((match) => match.index + match[0].length),
];

/** A line as the terminal lays it out: a Chinese character takes two columns. */
const asDisplayed = (line: string): string => line.replace(/[\u4e00-\u9fff]/g, 'xx');

/**
 * Expects a table with exactly `headers`, every row's cells starting in the header's columns on
 * the terminal; gives the rows' cells.
 */
const tableOf = (stdout: string, headers: readonly string[]): string[][] => {
  const [header = '', ...rows] = linesOf(stdout);
  expect(header.split(/ {2,}/)).to.deep.equal(headers);
  const starts = columnStarts(header);
  for (const row of rows) {
    expect(columnStarts(asDisplayed(row)), `columns of "${row}" under "${header}"`).to.deep.equal(
      starts,
    );
    expect(row).to.not.match(/\s$/);
  }
  return rows.map((row) => row.split(/ {2,}/));
};

/** `key: value` lines as an object, expecting the values to start in one column. */
const fieldsOf = (stdout: string): Record<string, string> => {
  const lines = linesOf(stdout).filter((line) => /^\w+: /.test(line));
  expect(lines).to.not.deep.equal([]);
  const valueStarts = new Set(lines.map((line) => /^\w+: +/.exec(line)?.[0].length));
  expect(valueStarts.size, stdout).to.equal(1);
  return Object.fromEntries(
    lines.map((line) => {
      const [, name = '', value = ''] = /^(\w+): +(.*)$/.exec(line) ?? [];
      return [name, value];
    }),
  );
};

/** Expects a usage failure: exit code 2, nothing on stdout, the reason and a usage line. */
const expectUsageFailure = (run: CommandRun, reason: string | RegExp): void => {
  expect(run.code, run.stderr).to.equal(2);
  expect(run.stdout).to.equal('');
  const [first = '', second = ''] = linesOf(run.stderr);
  if (typeof reason === 'string') expect(first).to.equal(`tidings: ${reason}`);
  else expect(first).to.match(reason);
  expect(second).to.match(/^usage: tidings /);
};

describe('tidings (the operator command line)', function () {
  this.timeout(120_000);
  let server: TestServer;
  let wechat: FakeWechat;
  const dirs: string[] = [];

  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-cli-'));
    dirs.push(dir);
    return dir;
  };

  before(async () => {
    wechat = await startFakeWechat();
    // No TIDINGS_AUDIT_TOKEN: the server writes <dir>/audit-token, which the CLI reads.
    server = await startPipelineServer({
      resolver: publicExampleResolver,
      env: {
        TIDINGS_WECHAT_APPID: WECHAT_APP_ID,
        TIDINGS_WECHAT_SECRET: WECHAT_APP_SECRET,
        TIDINGS_WECHAT_API_BASE: wechat.base,
        TIDINGS_SURGE_COMPLAINANTS: '0',
      },
    });
  });

  after(async () => {
    await server.dispose();
    await wechat.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** `tidings <args>` as the operator, the admin token in the environment. */
  const tidings = (
    args: readonly string[],
    env: Readonly<Record<string, string>> = { TIDINGS_ADMIN_TOKEN: ADMIN_TOKEN },
  ): Promise<CommandRun> => runTsx('bin/tidings.ts', args, { TIDINGS_URL: server.base, ...env });

  /** `tidings <args>` as the auditor: the token from the server's data folder. */
  const asAuditor = (args: readonly string[]): Promise<CommandRun> =>
    tidings(args, { TIDINGS_DATA_DIR: server.dir });

  /** Runs and expects exit code 0 with nothing on stderr. */
  const ok = async (
    args: readonly string[],
    run: (args: readonly string[]) => Promise<CommandRun> = tidings,
  ): Promise<string> => {
    const result = await run(args);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(0);
    return result.stdout;
  };

  /** Runs with --json and parses what it printed. */
  const json = async <T>(
    args: readonly string[],
    run: (args: readonly string[]) => Promise<CommandRun> = tidings,
  ): Promise<T> => JSON.parse(await ok([...args, '--json'], run)) as T;

  const appSummaries = async (query: string): Promise<unknown> =>
    (await call(server.base, 'GET', `/v1/admin/apps${query}`, { token: ADMIN_TOKEN })).body;

  describe('help and usage', () => {
    it('prints help naming every group and command, and its version', async () => {
      const help = await ok(['help']);
      for (const command of [
        'apps create',
        'apps list',
        'apps show',
        'apps rotate-secret',
        'apps reinstate',
        'held list',
        'held approve',
        'held reject',
        'complaints list',
        'complaints uphold',
        'complaints dismiss',
        'audit verify',
        'audit head',
        'audit export',
      ]) {
        expect(help).to.include(`tidings ${command}`);
      }
      const group = await ok(['apps', '--help']);
      expect(group).to.include('tidings apps rotate-secret <appId>');
      expect(group).to.not.include('tidings held');
      expect(await ok(['complaints', 'uphold', '--help'])).to.include(
        'usage: tidings complaints uphold <complaintId> --severity minor|major|severe',
      );
      const packageJson = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {
        version: string;
      };
      expect(await ok(['--version'])).to.equal(`tidings ${packageJson.version}\n`);
    });

    it('refuses unknown groups, commands and flags, and missing arguments, with exit code 2', async () => {
      expectUsageFailure(await tidings([]), 'name a group and a command');
      expectUsageFailure(await tidings(['frobnicate']), /^tidings: unknown group "frobnicate"/);
      expectUsageFailure(await tidings(['apps', 'delete']), 'unknown command "apps delete"');
      expectUsageFailure(await tidings(['apps', 'list', '--bogus']), 'unknown flag --bogus');
      expectUsageFailure(await tidings(['apps', 'show']), 'missing <appId>');
      expectUsageFailure(await tidings(['apps', 'show', 'a', 'b']), 'unexpected argument "b"');
      expectUsageFailure(await tidings(['apps', 'show', '..']), '".." is not an id');
      expectUsageFailure(
        await tidings(['apps', 'list', '--sort', 'age']),
        '--sort must be one of score, name, registered, not "age"',
      );
      expectUsageFailure(
        await tidings(['apps', 'list', '--limit', 'many']),
        /^tidings: --limit must be a whole number/,
      );
      expectUsageFailure(await tidings(['complaints', 'uphold', 'cmp_1']), 'missing --severity');
      expectUsageFailure(
        await tidings(['apps', 'list', '--url', 'ftp://example.org']),
        'the server URL "ftp://example.org" is not http or https',
      );
    });

    it('creates nothing when the command line is incomplete', async () => {
      const before = await appSummaries('?limit=1000');
      expectUsageFailure(
        await tidings(['apps', 'create', '--name', 'Half an app']),
        'give at least one --redirect-uri',
      );
      expectUsageFailure(
        await tidings(['apps', 'create', '--redirect-uri', 'https://a.example/cb']),
        'missing --name',
      );
      expect(await appSummaries('?limit=1000')).to.deep.equal(before);
    });
  });

  describe('apps', () => {
    it('create: prints the secret once, prominently; the secret works', async () => {
      const stdout = await ok([
        'apps',
        'create',
        '--name',
        'Parcel desk',
        '--redirect-uri',
        'https://parcels.example/one',
        '--redirect-uri',
        'https://parcels.example/two',
        '--callback-url',
        'https://parcels.example/callback',
      ]);
      const shown = fieldsOf(stdout);
      expect(shown['name']).to.equal('Parcel desk');
      expect(shown['redirectUris']).to.equal(
        'https://parcels.example/one, https://parcels.example/two',
      );
      expect(stdout).to.include('shown only this once');
      // The secret stands on its own indented line.
      const secret = /^ {4}(\S+)$/m.exec(stdout)?.[1] ?? '';
      expect(secret).to.not.equal('');
      const me = await call(server.base, 'GET', '/v1/app', { token: secret });
      expect(me.status, JSON.stringify(me.body)).to.equal(200);

      const view = await adminApp(server, shown['appId'] ?? '');
      expect(view['redirectUris']).to.deep.equal([
        'https://parcels.example/one',
        'https://parcels.example/two',
      ]);
      expect(view['callbackUrl']).to.equal('https://parcels.example/callback');
    });

    it('create --json: the server answer, whose secret authenticates the app', async () => {
      const created = await json<CreatedApp>([
        'apps',
        'create',
        '--name',
        'Json app',
        '--redirect-uri',
        'https://json.example/cb',
      ]);
      expect(created).to.include({ name: 'Json app' });
      expect(created.redirectUris).to.deep.equal(['https://json.example/cb']);
      expect(
        (await call(server.base, 'GET', '/v1/app', { token: created.appSecret })).status,
      ).to.equal(200);
      expect((await adminApp(server, created.appId)).name).to.equal('Json app');
    });

    it('create: a server refusal prints its status, code, detail and fields, exit code 1', async () => {
      const run = await tidings([
        'apps',
        'create',
        '--name',
        'Broken',
        '--redirect-uri',
        'not a url',
      ]);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.match(/^tidings: 400 validation_failed: /);
      expect(run.stderr).to.include('/redirectUris/0');
    });

    it('list: --json is the server answer; the table lists the same apps, aligned', async () => {
      for (const name of ['Alpha', 'Bravo with a longer name', 'C', '工单派送']) {
        await ok(['apps', 'create', '--name', name, '--redirect-uri', 'https://x.example/cb']);
      }
      const answer = await json<{ items: { appId: string; name: string; score: number }[] }>([
        'apps',
        'list',
        '--sort',
        'name',
      ]);
      expect(answer).to.deep.equal(await appSummaries('?sort=name'));
      expect(answer.items.map((item) => item.name)).to.include.members(['Alpha', 'C', '工单派送']);

      const rows = tableOf(await ok(['apps', 'list', '--sort', 'name']), [
        'APP ID',
        'NAME',
        'STATUS',
        'SCORE',
        'SUSPENDED UNTIL',
        'REGISTERED',
      ]);
      expect(rows.map(([appId]) => appId)).to.deep.equal(answer.items.map((item) => item.appId));
      expect(rows.map((row) => row[1])).to.deep.equal(answer.items.map((item) => item.name));
      expect(rows.map((row) => row[3])).to.deep.equal(
        answer.items.map((item) => String(item.score)),
      );

      const limited = await json<{ items: unknown[] }>(['apps', 'list', '--limit', '2']);
      expect(limited.items).to.have.length(2);
      expect(await ok(['apps', 'list', '--status', 'banned'])).to.equal('no apps\n');
    });

    it('show: key: value lines; --json is the server answer', async () => {
      const created = await json<CreatedApp>([
        'apps',
        'create',
        '--name',
        'Shown',
        '--redirect-uri',
        'https://shown.example/cb',
      ]);
      const shown = fieldsOf(await ok(['apps', 'show', created.appId]));
      expect(shown).to.deep.include({
        appId: created.appId,
        name: 'Shown',
        status: 'active',
        score: '100',
        complaints: '0 open, 0 upheld, 0 dismissed',
        redirectUris: 'https://shown.example/cb',
      });
      expect(await json(['apps', 'show', created.appId])).to.deep.equal(
        await adminApp(server, created.appId),
      );
    });

    it('show: a 404 is "tidings: 404 not_found: …" on stderr, exit code 1', async () => {
      const run = await tidings(['apps', 'show', 'app_nobody']);
      expect(run.code).to.equal(1);
      expect(run.stdout).to.equal('');
      expect(linesOf(run.stderr)).to.deep.equal(['tidings: 404 not_found: no app app_nobody']);
    });

    it('rotate-secret: prints the new secret; the old one is then refused (401)', async () => {
      const created = await json<CreatedApp>([
        'apps',
        'create',
        '--name',
        'Rotated',
        '--redirect-uri',
        'https://rotated.example/cb',
      ]);
      const stdout = await ok(['apps', 'rotate-secret', created.appId]);
      expect(stdout).to.include('the old one no longer works');
      const secret = /^ {4}(\S+)$/m.exec(stdout)?.[1] ?? '';
      expect(secret).to.not.equal(created.appSecret).and.not.equal('');
      expect(
        (await call(server.base, 'GET', '/v1/app', { token: created.appSecret })).status,
      ).to.equal(401);
      expect((await call(server.base, 'GET', '/v1/app', { token: secret })).status).to.equal(200);

      const again = await json<{ appSecret: string }>(['apps', 'rotate-secret', created.appId]);
      expect((await call(server.base, 'GET', '/v1/app', { token: secret })).status).to.equal(401);
      expect(
        (await call(server.base, 'GET', '/v1/app', { token: again.appSecret })).status,
      ).to.equal(200);
    });
  });

  describe('complaints, and reinstating the app they suspended', () => {
    let app: CreatedApp;
    const people: BoundPerson[] = [];
    const complaintIds: string[] = [];

    before(async () => {
      app = await createPipelineApp(server, 'Complained about');
      for (let index = 0; index < 3; index += 1) {
        const person = await bindWithoutDevice(server, app);
        people.push(person);
        complaintIds.push(
          await complain(server, person.person, await deliver(server, app, person)),
        );
      }
    });

    it('list: the open complaints as a table and as the server answer', async () => {
      const answer = await json<{ items: { complaintId: string; appId: string }[] }>([
        'complaints',
        'list',
      ]);
      expect(answer).to.deep.equal(
        (await call(server.base, 'GET', '/v1/admin/complaints', { token: ADMIN_TOKEN })).body,
      );
      const rows = tableOf(await ok(['complaints', 'list', '--status', 'open']), [
        'COMPLAINT ID',
        'APP ID',
        'MESSAGE ID',
        'CATEGORY',
        'STATUS',
        'SEVERITY',
        'FILED',
        'REASON',
      ]);
      expect(rows.map(([complaintId]) => complaintId)).to.include.members(complaintIds);
      expect(rows.filter((row) => row[1] === app.appId).map((row) => row[4])).to.deep.equal([
        'open',
        'open',
        'open',
      ]);
      expect(await ok(['complaints', 'list', '--status', 'withdrawn'])).to.equal(
        'no withdrawn complaints\n',
      );
    });

    it('uphold twice (severe) suspends the app; dismiss; reinstate makes it active', async () => {
      const [first = '', second = '', third = ''] = complaintIds;
      expect(await ok(['complaints', 'uphold', first, '--severity', 'severe'])).to.equal(
        `${first} is upheld\n`,
      );
      expect(
        await json(['complaints', 'uphold', second, '--severity', 'severe', '--note', 'twice']),
      ).to.deep.equal({ status: 'upheld' });
      expect(await ok(['complaints', 'dismiss', third, '--note', 'fair enough'])).to.equal(
        `${third} is dismissed\n`,
      );
      const upheld = await json<{
        items: { complaintId: string; severity: string; note: string }[];
      }>(['complaints', 'list', '--status', 'upheld']);
      expect(upheld.items.find((item) => item.complaintId === second)).to.deep.include({
        severity: 'severe',
        note: 'twice',
      });
      const dismissed = await json<{ items: { complaintId: string; note: string }[] }>([
        'complaints',
        'list',
        '--status',
        'dismissed',
      ]);
      expect(dismissed.items.find((item) => item.complaintId === third)?.note).to.equal(
        'fair enough',
      );

      await waitForApp(server, app.appId, (view) => view.status === 'suspended', 'suspended');
      expect(fieldsOf(await ok(['apps', 'show', app.appId]))['status']).to.equal('suspended');
      const suspended = tableOf(await ok(['apps', 'list', '--status', 'suspended']), [
        'APP ID',
        'NAME',
        'STATUS',
        'SCORE',
        'SUSPENDED UNTIL',
        'REGISTERED',
      ]);
      expect(suspended.find(([appId]) => appId === app.appId)?.[2]).to.equal('suspended');

      expect(await ok(['apps', 'reinstate', app.appId, '--note', 'they fixed it'])).to.equal(
        `${app.appId} is active\n`,
      );
      const view = await waitForApp(server, app.appId, (v) => v.status === 'active', 'active');
      expect(view.score).to.be.at.least(60);
    });

    it('a second verdict on a decided complaint is the server refusal, exit code 1', async () => {
      const run = await tidings(['complaints', 'dismiss', complaintIds[0] ?? '']);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr).to.match(/^tidings: 422 illegal_state: /);
    });
  });

  describe('held messages', () => {
    let app: CreatedApp;
    let person: BoundPerson;

    before(async () => {
      app = await createPipelineApp(server, 'Moderated');
      person = await bindWithoutDevice(server, app);
    });

    /** A message the WeChat stand-in wants reviewed, once it is held. */
    const heldMessage = async (body: string): Promise<string> => {
      const messageId = await sendAccepted(server, app, {
        key: person.key,
        title: 'Offer',
        body: `${body} [review:20002]`,
      });
      await waitForStatus(server, app, messageId, 'held');
      return messageId;
    };

    it('list, approve and reject', async () => {
      const approved = await heldMessage('Approve me');
      const rejected = await heldMessage('Reject me');

      const answer = await json<{ items: { messageId: string }[] }>(['held', 'list']);
      expect(answer).to.deep.equal(
        (await call(server.base, 'GET', '/v1/admin/moderation/held', { token: ADMIN_TOKEN })).body,
      );
      const rows = tableOf(await ok(['held', 'list']), [
        'MESSAGE ID',
        'APP ID',
        'CREATED',
        'POLICY',
        'REASON',
        'TITLE',
        'BODY',
      ]);
      const row = rows.find(([messageId]) => messageId === approved);
      expect(row?.[1]).to.equal(app.appId);
      expect(row?.[3]).to.equal('wechat');
      expect(row?.[6]).to.equal('Approve me [review:20002]');
      expect(rows.map(([messageId]) => messageId)).to.include(rejected);

      expect(await ok(['held', 'approve', approved])).to.equal(`${approved} is approved\n`);
      await waitForStatus(server, app, approved, 'delivered');
      expect(await ok(['held', 'reject', rejected, '--reason', 'not a real offer'])).to.equal(
        `${rejected} is rejected\n`,
      );
      const view = await waitForStatus(server, app, rejected, 'rejected');
      expect(view.reason).to.equal('not a real offer');

      const after = await json<{ items: { messageId: string }[] }>(['held', 'list']);
      expect(after.items.map((item) => item.messageId)).to.not.include.members([
        approved,
        rejected,
      ]);
      const again = await tidings(['held', 'approve', approved]);
      expect(again.code).to.equal(1);
      expect(again.stderr).to.match(/^tidings: 422 illegal_state: /);
    });
  });

  describe('audit', () => {
    const auditToken = (): string => readFileSync(join(server.dir, 'audit-token'), 'utf8').trim();

    const serverGet = async (path: string): Promise<Response> =>
      fetch(`${server.base}${path}`, { headers: { authorization: `Bearer ${auditToken()}` } });

    it('head: the signed head, with the token from the data folder or TIDINGS_AUDIT_TOKEN', async () => {
      const shown = fieldsOf(await ok(['audit', 'head'], asAuditor));
      expect(shown['position']).to.match(/^\d+$/);
      expect(shown['hash']).to.match(/^[0-9a-f]{64}$/);
      const head = await json<{ position: string; keyId: string; signature: string }>(
        ['audit', 'head'],
        (args) => tidings(args, { TIDINGS_AUDIT_TOKEN: auditToken() }),
      );
      const key = (await (await serverGet('/v1/audit/key')).json()) as { keyId: string };
      expect(head.keyId).to.equal(key.keyId);
      expect(Number(head.position)).to.be.at.least(Number(shown['position']));
    });

    it('export: NDJSON on stdout, or into a file with progress on stderr', async () => {
      const lines = linesOf(await ok(['audit', 'export'], asAuditor)).map(
        (line) => JSON.parse(line) as ExportItem,
      );
      expect(lines[0]?.position).to.equal('1');
      expect(lines.map((item) => Number(item.position))).to.deep.equal(
        lines.map((_, index) => index + 1),
      );

      const file = join(tempDir(), 'log.ndjson');
      const run = await asAuditor(['audit', 'export', '--out', file]);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.equal('');
      const written = linesOf(readFileSync(file, 'utf8'));
      expect(written.length).to.be.at.least(lines.length);
      expect(
        written.slice(0, lines.length).map((line) => JSON.parse(line) as unknown),
      ).to.deep.equal(lines);
      expect(linesOf(run.stderr).at(-1)).to.equal(
        `tidings: wrote ${written.length.toLocaleString('en-US')} events to ${file}`,
      );
    });

    it('verify: the server export, with the server key or a kept key and head', async () => {
      const plain = await ok(['audit', 'verify'], asAuditor);
      expect(plain).to.match(/^ok: \d+ events verified from position 1 to \d+/);
      expect(plain).to.include('the key the server gave');

      const dir = tempDir();
      const keyFile = join(dir, 'key.pem');
      const headFile = join(dir, 'head.json');
      const key = (await (await serverGet('/v1/audit/key')).json()) as { publicKey: string };
      writeFileSync(keyFile, key.publicKey);
      writeFileSync(headFile, await (await serverGet('/v1/audit/head')).text());
      const kept = await ok(['audit', 'verify', '--key', keyFile, '--head', headFile], asAuditor);
      expect(kept).to.match(/^ok: /);
      expect(kept).to.include('the kept head is unchanged');
      expect(kept).to.not.include('the key the server gave');

      const report = await json<{ ok: boolean; checked: number; headsChecked: number }>(
        ['audit', 'verify', '--key', keyFile],
        asAuditor,
      );
      expect(report.ok).to.equal(true);
      expect(report.checked).to.be.greaterThan(10);
      expect(report.headsChecked).to.be.at.least(1);
    });

    it('verify --file: ok offline; an edited export fails with exit code 1, naming the position', async () => {
      const dir = tempDir();
      const file = join(dir, 'log.ndjson');
      expect((await asAuditor(['audit', 'export', '--out', file])).code).to.equal(0);
      const keyFile = join(dir, 'key.pem');
      const key = (await (await serverGet('/v1/audit/key')).json()) as { publicKey: string };
      writeFileSync(keyFile, key.publicKey);

      // Offline: no server and no token are needed.
      const nowhere = await closedPortBase();
      const offline = (args: readonly string[]): Promise<CommandRun> =>
        runTsx('bin/tidings.ts', args, { TIDINGS_URL: nowhere });
      const good = await offline(['audit', 'verify', '--file', file, '--key', keyFile]);
      expect(good.code, good.stderr).to.equal(0);
      expect(good.stdout).to.match(/^ok: \d+ events verified/);

      const lines = linesOf(readFileSync(file, 'utf8'));
      const edited = lines.map((line, index) =>
        index === 3
          ? JSON.stringify({ ...(JSON.parse(line) as ExportItem), data: { x: 1 } })
          : line,
      );
      const tampered = join(dir, 'tampered.ndjson');
      writeFileSync(tampered, `${edited.join('\n')}\n`);
      const bad = await offline(['audit', 'verify', '--file', tampered, '--key', keyFile]);
      expect(bad.code).to.equal(1);
      const position = (JSON.parse(lines[3] ?? '{}') as ExportItem).position;
      expect(bad.stdout).to.match(new RegExp(`^FAILED at position ${position}: `));

      const missing = await offline(['audit', 'verify', '--file', join(dir, 'none.ndjson')]);
      expectUsageFailure(missing, /^tidings: cannot read the export .*none\.ndjson/);
      writeFileSync(join(dir, 'not-a-head.json'), '{"position":"x"}');
      expectUsageFailure(
        await offline(['audit', 'verify', '--file', file, '--head', join(dir, 'not-a-head.json')]),
        /is not a head from GET \/v1\/audit\/head$/,
      );
    });
  });

  describe('servers and tokens', () => {
    it('an unreachable server is named, exit code 1', async () => {
      const url = await closedPortBase();
      const run = await tidings(['apps', 'list', '--url', url]);
      expect(run.code).to.equal(1);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.include(`tidings: cannot reach the Tidings server at ${url}`);
    });

    it('reads the operator token from <data dir>/admin-token (TIDINGS_DATA_DIR or --data-dir)', async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'admin-token'), `${ADMIN_TOKEN}\n`);
      const fromEnv = await tidings(['apps', 'list', '--json'], { TIDINGS_DATA_DIR: dir });
      expect(fromEnv.code, fromEnv.stderr).to.equal(0);
      expect(JSON.parse(fromEnv.stdout)).to.deep.equal(await appSummaries(''));
      const fromFlag = await tidings(['apps', 'list', '--data-dir', dir], {});
      expect(fromFlag.code, fromFlag.stderr).to.equal(0);
      expect(linesOf(fromFlag.stdout)[0]).to.match(/^APP ID {2,}NAME/);
    });

    it('says where it looked for a missing token, exit code 1', async () => {
      const dir = tempDir();
      const run = await tidings(['held', 'list'], { TIDINGS_DATA_DIR: dir });
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include('TIDINGS_ADMIN_TOKEN is not set');
      expect(run.stderr).to.include(`${join(dir, 'admin-token')} does not exist`);
      const audit = await tidings(['audit', 'head'], { TIDINGS_DATA_DIR: dir });
      expect(audit.code).to.equal(1);
      expect(audit.stderr).to.include(
        `TIDINGS_AUDIT_TOKEN is not set and ${join(dir, 'audit-token')} does not exist`,
      );
    });

    it('a wrong token is the 401, saying where the token came from', async () => {
      const run = await tidings(['apps', 'list'], {
        TIDINGS_ADMIN_TOKEN: 'not-the-admin-token-0123',
      });
      expect(run.code).to.equal(1);
      expect(linesOf(run.stderr)).to.have.length(2);
      expect(run.stderr).to.match(/^tidings: 401 unauthorized: /);
      expect(run.stderr).to.include('the token came from TIDINGS_ADMIN_TOKEN');
    });
  });
});
