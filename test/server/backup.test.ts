import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FOLDER_FILES, isStoreOrLockFile } from '../../adapters/config/dataFolderFiles.js';
import { backupDataFolder } from '../../composition/backup.js';
import { restoreDataFolder } from '../../composition/restore.js';
import { backupFacts, expectDone } from '../support/backups.js';
import { linesOf, runNpmScript } from '../support/commands.js';
import type { Person } from '../support/httpFixtures.js';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import {
  barkPushesFor,
  bindPerson,
  bindWithoutDevice,
  createPipelineApp,
  deliver,
  deliveryOn,
  inboxOf,
  messageEvents,
  sendAccepted,
  startPipelineServer,
  waitForBark,
  waitForMessage,
  waitUntil,
} from '../support/pipeline.js';
import { startPushing, UNLIMITED_PUSHES } from '../support/pushLoop.js';
import { call, startTestServer, type Reply, type TestServer } from '../support/testServer.js';

interface InboxPage {
  readonly items: readonly { readonly messageId: string }[];
  readonly nextCursor: string | null;
}

/** Every message id in a person's inbox, following its pages. */
const allInboxIds = async (server: TestServer, person: Person): Promise<Set<string>> => {
  const ids = new Set<string>();
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const reply: Reply<InboxPage> = await call<InboxPage>(
      server.base,
      'GET',
      `/v1/me/inbox?limit=100${query}`,
      { cookie: person.cookie },
    );
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    for (const item of reply.body.items) ids.add(item.messageId);
    cursor = reply.body.nextCursor;
  } while (cursor !== null);
  return ids;
};

describe('backup drill', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  const servers: TestServer[] = [];

  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-drill-'));
    dirs.push(dir);
    return dir;
  };

  const barks: BarkStandIn[] = [];

  after(async () => {
    for (const server of servers.splice(0)) await server.stop();
    for (const bark of barks.splice(0)) await bark.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('backs up a server that keeps accepting pushes, and a server on the restored folder has every message accepted before the backup began', async () => {
    const original = await startPipelineServer({ dir: tempDir(), env: UNLIMITED_PUSHES });
    servers.push(original);
    const app = await createPipelineApp(original);
    const person = await bindWithoutDevice(original, app);
    const pushes = startPushing(original, app, person);
    await waitUntil(
      () => pushes.accepted.length,
      (n) => n >= 30,
      '30 accepted pushes',
    );

    // Everything answered 202 by now was committed before the backup began.
    const acceptedBefore = [...pushes.accepted];
    const file = join(tempDir(), 'drill.tidings-backup');
    const backup = await runNpmScript('backup', [file], { TIDINGS_DATA_DIR: original.dir });
    const acceptedDuring = pushes.accepted.length - acceptedBefore.length;
    await pushes.stop();
    const acceptedAll = [...pushes.accepted];

    expect(backup.code, backup.stderr).to.equal(0);
    expect(backup.stderr).to.equal('');
    expect(acceptedDuring, 'pushes accepted while the backup ran').to.be.greaterThan(0);
    const summary = linesOf(backup.stdout).at(-1) ?? '';
    expect(summary).to.match(
      /^backup: wrote .+: \d+\.\d MB, [\d,]+ events, log head at [\d,]+, with audit-signing-key\.pem, audit-token, device-secrets\.key, in \d+\.\d\d s$/,
    );
    expect(summary).to.include(file);

    // The copy is not torn, and its log reaches past every message accepted before it began.
    const facts = backupFacts(file);
    expect(facts.integrity).to.deep.equal(['ok']);
    expect(facts.manifest?.head_position).to.equal(facts.head);
    expect(summary).to.include(`log head at ${facts.head.toLocaleString('en')}`);
    for (const messageId of acceptedBefore) {
      const [submitted] = await messageEvents(original, messageId);
      expect(submitted, messageId).to.not.equal(undefined);
      expect(Number(submitted?.position.commit), messageId).to.be.lessThanOrEqual(facts.head);
    }
    const auditToken = original.tidings.auditToken;
    const hashAtHead = original.tidings.db
      .prepare<[number], { hash: Buffer }>('SELECT hash FROM events WHERE position = ?')
      .get(facts.head)
      ?.hash.toString('hex');
    await original.stop();

    const restored = join(tempDir(), 'restored');
    const restore = await runNpmScript('restore', [file, '--data-dir', restored]);
    expect(restore.code, restore.stderr).to.equal(0);
    expect(restore.stderr).to.equal('');
    expect(linesOf(restore.stdout)).to.have.length(1);
    expect(restore.stdout).to.match(/^restore: restored .+ into .+: [\d,]+ events, log head at /);
    expect(statSync(restored).mode & 0o777).to.equal(0o700);
    for (const name of ['tidings.db', 'audit-token']) {
      expect(statSync(join(restored, name)).mode & 0o777, name).to.equal(0o600);
    }

    const copy = await startPipelineServer({ dir: restored, env: UNLIMITED_PUSHES });
    servers.push(copy);
    expect(copy.tidings.auditToken, 'the auditor token of the original').to.equal(auditToken);
    // Every message accepted before the backup began reaches the inbox on the restored server
    // (those the original had not delivered yet are delivered now, from the restored checkpoints).
    for (const messageId of acceptedBefore) {
      await waitForMessage(
        copy,
        app,
        messageId,
        (view) => view.status === 'delivered' && deliveryOn(view, 'inbox')?.status === 'delivered',
        'delivered to the inbox',
      );
    }
    const inbox = await allInboxIds(copy, person.person);
    for (const messageId of acceptedBefore) expect(inbox.has(messageId), messageId).to.equal(true);
    // A snapshot: what was accepted after it (at the latest, once the command ended) is not in it.
    expect(acceptedAll.some((id) => !facts.streams.has(`message-${id}`))).to.equal(true);
    // What was accepted during the backup is there exactly when the copy's log holds it.
    for (const messageId of acceptedAll.slice(acceptedBefore.length)) {
      const reply = await call(copy.base, 'GET', `/v1/messages/${messageId}`, {
        token: app.appSecret,
      });
      expect(reply.status, messageId).to.equal(
        facts.streams.has(`message-${messageId}`) ? 200 : 404,
      );
    }
    // And the restored server takes new work: the app's secret and the binding came back too.
    const fresh = await deliver(copy, app, person, 'After the restore');
    expect((await inboxOf(copy, person.person)).map((item) => item.messageId)).to.include(fresh);

    // The restored log's hash chain verifies, and at the copy's head it has the original's hash.
    const verified = await call<{ ok: boolean; checked: number }>(
      copy.base,
      'GET',
      `/v1/audit/verify?to=${facts.head}`,
      { token: auditToken },
    );
    expect(verified.body).to.deep.include({ ok: true, checked: facts.head });
    const atHead = await call<{ items: Array<{ hash: string }> }>(
      copy.base,
      'GET',
      `/v1/audit/events?after=${facts.head - 1}&limit=1`,
      { token: auditToken },
    );
    expect(atHead.body.items[0]?.hash).to.equal(hashAtHead);
  });

  it('carries every file a server leaves in its data folder, so the restored server has the same tokens', async () => {
    // No tokens in the environment: the server generates both into its folder.
    const original = await startTestServer({
      dir: tempDir(),
      env: { TIDINGS_ADMIN_TOKEN: '', TIDINGS_AUDIT_TOKEN: '' },
    });
    servers.push(original);
    const left = readdirSync(original.dir)
      .filter((name) => !isStoreOrLockFile(name))
      .sort();
    // A file the server writes that the backup's list lacks would be lost by a restore.
    expect(left).to.deep.equal([...FOLDER_FILES].sort());

    const file = join(tempDir(), 'tokens.tidings-backup');
    const summary = expectDone(
      await backupDataFolder({ settings: { dataDir: original.dir }, target: file }),
    );
    expect(summary.skipped).to.deep.equal([]);
    expect([...summary.files].sort()).to.deep.equal(left);
    const { adminToken, auditToken } = original.tidings;
    await original.stop();

    const restored = join(tempDir(), 'restored');
    expectDone(restoreDataFolder({ settings: { dataDir: restored }, file }));
    for (const name of left) {
      expect(readFileSync(join(restored, name), 'utf8'), name).to.equal(
        readFileSync(join(original.dir, name), 'utf8'),
      );
    }
    const copy = await startTestServer({
      dir: restored,
      env: { TIDINGS_ADMIN_TOKEN: '', TIDINGS_AUDIT_TOKEN: '' },
    });
    servers.push(copy);
    expect(copy.tidings.adminToken).to.equal(adminToken);
    expect(copy.tidings.auditToken).to.equal(auditToken);
    const apps = await call(copy.base, 'GET', '/v1/admin/apps', { token: adminToken });
    expect(apps.status, JSON.stringify(apps.body)).to.equal(200);
  });

  it('a restored server pushes again what the original had not recorded as pushed when the backup began, under the same notification id', async () => {
    const bark = await startBarkServer();
    barks.push(bark);
    const original = await startPipelineServer({ dir: tempDir(), env: UNLIMITED_PUSHES });
    servers.push(original);
    const app = await createPipelineApp(original);
    const to = await bindPerson(original, bark, app);
    const send = (title: string): Promise<string> =>
      sendAccepted(original, app, { key: to.key, title, body: title });

    // Pushed and recorded before the backup.
    const done = await send('Pushed before');
    await waitForBark(original, app, done, 'delivered');
    // On its way during the backup: the device has it, its answer (and so its record) comes after.
    bark.delay(to.deviceKey, 3_000);
    const inFlight = await send('On its way');
    await waitUntil(
      () => barkPushesFor(bark, to.deviceKey).length,
      (n) => n === 2,
      'the second push at the stand-in',
    );
    const file = join(tempDir(), 'in-flight.tidings-backup');
    expectDone(await backupDataFolder({ settings: { dataDir: original.dir }, target: file }));
    await waitForBark(original, app, inFlight, 'delivered');
    await original.stop();
    bark.delay(to.deviceKey, 0);
    const [first, second] = barkPushesFor(bark, to.deviceKey);

    const restored = join(tempDir(), 'restored');
    expectDone(restoreDataFolder({ settings: { dataDir: restored }, file }));
    const copy = await startPipelineServer({ dir: restored, env: UNLIMITED_PUSHES });
    servers.push(copy);
    await waitForBark(copy, app, inFlight, 'delivered');
    // A look at the queue once a second: one more would have come by now.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const pushes = barkPushesFor(bark, to.deviceKey);
    expect(pushes, 'the pushes after the restore').to.have.length(3);
    expect(pushes[2]).to.deep.equal(second);
    expect(first?.['id']).to.be.a('string');
    expect(second?.['id']).to.be.a('string').and.not.equal(first?.['id']);
    // The device shows each message once: the repeat replaced the notification with its id.
    expect(
      bark.notificationsOf(to.deviceKey).map((notification) => notification.title),
    ).to.have.members(['Pushed before', 'On its way']);
  });
});
