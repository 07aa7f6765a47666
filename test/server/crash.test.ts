import { AssertionError, expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startChildServer, type ChildServer } from '../../bench/serverProcess.js';
import { startBarkServer, type BarkStandIn } from '../../devtools/barkServer.js';
import { allow, createApp, registerPerson } from '../support/httpFixtures.js';
import { call } from '../support/testServer.js';

/**
 * The issue's crash test: push 1,000 messages, SIGKILL the server process mid-stream, restart:
 * every message that got a 202 is delivered to the inbox exactly once; none is lost.
 *
 * The server runs as a real child process (`node --import tsx server.ts`) on the default
 * `synchronous=full`; the Bark stand-in runs here, in the test process, so it outlives the crash.
 * The client behaves like a real one: a request that got no answer (the connection broke when the
 * server died) is sent again after the restart with the same Idempotency-Key and body (the new
 * process takes over the dead one's claims at once), and a `409 idempotency_in_flight`, should
 * one come, is retried after its Retry-After.
 */

const ADMIN_TOKEN = 'crash-admin-token-0123456789';
const DEVICE_KEY = 'crashdevice';
const REDIRECT_URI = 'https://orders.example/callback';
const TOTAL = 1_000;
const KILL_AFTER_ACCEPTED = 300;
const IN_FLIGHT = 20;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const bodyOf = (index: number): string => `crash test message #${index}`;
const keyOf = (index: number): string => `crash-${index}`;

describe('crash safety: SIGKILL while 1,000 messages are being pushed', function () {
  this.timeout(180_000);

  let dir: string;
  let port: number;
  let bark: BarkStandIn;
  let server: ChildServer | undefined;

  const start = async (): Promise<ChildServer> =>
    startChildServer({
      env: {
        PORT: String(port),
        TIDINGS_HOST: '127.0.0.1',
        TIDINGS_DATA_DIR: dir,
        TIDINGS_ADMIN_TOKEN: ADMIN_TOKEN,
        TIDINGS_OUTBOUND_ALLOWLIST: '127.0.0.1',
        TIDINGS_APP_RATE_BURST: '100000',
        TIDINGS_APP_RATE_PER_SECOND: '100000',
        TIDINGS_PUSH_BUDGET_PER_HOUR: '100000',
        TIDINGS_LOG_LEVEL: 'warn',
      },
      readyTimeoutMs: 30_000,
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tidings-crash-'));
    port = await freePort();
    bark = await startBarkServer({ devices: [DEVICE_KEY] });
  });

  after(async () => {
    await server?.kill();
    await bark.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every message that got a 202 to the inbox exactly once, and to Bark', async () => {
    server = await start();
    const base = server.url;
    const app = await createApp(
      { base, adminToken: ADMIN_TOKEN },
      { name: 'Work orders', redirectUris: [REDIRECT_URI] },
    );
    const person = await registerPerson({ base });
    const device = await call(base, 'PUT', '/v1/me/devices/bark', {
      cookie: person.cookie,
      body: { serverUrl: bark.url, deviceKey: DEVICE_KEY },
    });
    expect(device.status, JSON.stringify(device.body)).to.equal(200);
    const { key } = await allow({ base }, person.cookie, {
      appId: app.appId,
      openid: 'customer-a',
      redirectUri: REDIRECT_URI,
      level: 'strong',
    });

    /** messageId of every message that got a 202, by index. */
    const accepted = new Map<number, string>();
    const push = (index: number) =>
      call<{ messageId: string; status: string; code?: string }>(base, 'POST', '/v1/messages', {
        token: app.appSecret,
        headers: { 'Idempotency-Key': keyOf(index) },
        body: { key, title: 'Order update', body: bodyOf(index) },
      });
    const record = (index: number, messageId: string): void => {
      const earlier = accepted.get(index);
      // The same Idempotency-Key always names the same message.
      if (earlier !== undefined) expect(messageId).to.equal(earlier);
      accepted.set(index, messageId);
    };

    // Phase 1: 20 requests in flight; SIGKILL once 300 have been accepted.
    let next = 0;
    // Set by whichever lane sees the 300th 202, while the others await their answers.
    let killed: Promise<void> | undefined;
    const crashed = (): boolean => killed !== undefined;
    const unanswered = new Set<number>();
    const lane = async (): Promise<void> => {
      while (!crashed() && next < TOTAL) {
        const index = next;
        next += 1;
        try {
          const reply = await push(index);
          expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
          record(index, reply.body.messageId);
          if (accepted.size >= KILL_AFTER_ACCEPTED && !crashed()) killed = server?.kill();
        } catch (error) {
          if (error instanceof AssertionError) throw error;
          // The connection broke: no answer, so not counted as accepted.
          unanswered.add(index);
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    expect(crashed(), 'the server was killed mid-stream').to.equal(true);
    await killed;
    expect(accepted.size).to.be.within(KILL_AFTER_ACCEPTED, TOTAL - 1);
    expect(unanswered.size, 'requests were in flight when the server died').to.be.above(0);

    // Phase 2: restart on the same folder; retry what got no answer, send the rest.
    server = await start();
    const retry = async (index: number): Promise<void> => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        expect(Date.now(), `message ${index} never got an answer`).to.be.below(deadline);
        const reply = await push(index).catch(() => undefined);
        if (reply === undefined) {
          // Not listening yet, or a connection from before the crash: try again.
          await sleep(200);
          continue;
        }
        if (reply.status === 409 && reply.body.code === 'idempotency_in_flight') {
          // A claim left by the killed process; it is taken over once it is a minute old.
          await sleep(1_000 * Number(reply.headers.get('retry-after') ?? '1'));
          continue;
        }
        expect(reply.status, JSON.stringify(reply.body)).to.equal(202);
        record(index, reply.body.messageId);
        return;
      }
    };
    const afterRestart = [
      ...unanswered,
      ...Array.from({ length: TOTAL - next }, (_, offset) => next + offset),
    ];
    let cursor = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (cursor < afterRestart.length) {
          const index = afterRestart[cursor] as number;
          cursor += 1;
          await retry(index);
        }
      }),
    );
    // A few messages accepted before the crash, sent again: the first answer, nothing new.
    for (const [index, messageId] of [...accepted].slice(0, 5)) {
      const again = await push(index);
      expect(again.status).to.equal(202);
      expect(again.body.messageId).to.equal(messageId);
    }
    expect(accepted.size, 'every message was accepted in the end').to.equal(TOTAL);
    const acceptedIds = new Set(accepted.values());
    expect(acceptedIds.size, 'one message id per Idempotency-Key').to.equal(TOTAL);

    // Every accepted message reaches the inbox exactly once.
    let inbox: string[] = [];
    const inboxDeadline = Date.now() + 60_000;
    for (;;) {
      inbox = await readInbox(base, person.cookie);
      const present = new Set(inbox);
      if ([...acceptedIds].every((id) => present.has(id))) break;
      expect(
        Date.now(),
        `${[...acceptedIds].filter((id) => !present.has(id)).length} accepted messages are missing from the inbox`,
      ).to.be.below(inboxDeadline);
      await sleep(250);
    }
    const distinct = new Set(inbox);
    expect(inbox.length, 'no message is listed twice').to.equal(distinct.size);
    expect(distinct.size, 'the inbox holds exactly the accepted messages').to.equal(
      acceptedIds.size,
    );
    expect([...distinct].filter((id) => !acceptedIds.has(id))).to.deep.equal([]);

    // Every accepted message reached the Bark stand-in at least once. A push may be repeated
    // after the crash (sent, then the process died before recording it: at-least-once), but a
    // repeat carries the same notification id, so the device shows it once.
    const pushedIdsOf = (): Map<string, Set<string>> => {
      const byBody = new Map<string, Set<string>>();
      for (const request of bark.requests) {
        const json = request.json as { body?: string; id?: string } | undefined;
        if (json?.body === undefined || json.id === undefined) continue;
        const ids = byBody.get(json.body) ?? new Set<string>();
        ids.add(json.id);
        byBody.set(json.body, ids);
      }
      return byBody;
    };
    const barkDeadline = Date.now() + 60_000;
    for (;;) {
      const pushed = pushedIdsOf();
      const missing = [...accepted].filter(([index]) => !pushed.has(bodyOf(index)));
      if (missing.length === 0) break;
      expect(Date.now(), `${missing.length} accepted messages never reached Bark`).to.be.below(
        barkDeadline,
      );
      await sleep(250);
    }
    const pushed = pushedIdsOf();
    for (const [index, messageId] of accepted) {
      expect([...(pushed.get(bodyOf(index)) ?? [])], `Bark ids of message ${index}`).to.deep.equal([
        messageId,
      ]);
    }
    expect(bark.notificationsOf(DEVICE_KEY)).to.have.length(TOTAL);
  });
});

/** Every message id in the person's inbox, newest first, through the cursor pages. */
const readInbox = async (base: string, cookie: string): Promise<string[]> => {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<
      ReturnType<typeof call<{ items: { messageId: string }[]; nextCursor: string | null }>>
    > = await call(
      base,
      'GET',
      `/v1/me/inbox?limit=100${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      { cookie },
    );
    expect(page.status).to.equal(200);
    ids.push(...page.body.items.map((item) => item.messageId));
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  return ids;
};
