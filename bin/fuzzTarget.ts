/**
 * A real Tidings, started in this process for the API fuzzer (devtools/apiFuzz/), with the
 * probes the fuzzer judges by: the event log's new events (read whenever the store's head
 * position moved) and the warn- and error-level log lines. `npm run fuzz` (bin/fuzz.ts) and the
 * mocha suite (test/adapters/http/apiFuzz.test.ts) start it the same way.
 *
 * Outbound requests never leave the machine. Every host name resolves to 127.0.0.2, which is
 * allowlisted, so a fuzzed device URL is accepted and its pushes are refused at once; only the
 * fixture's device host resolves to a bark-server stand-in (devtools/barkServer.ts), so the
 * person's pushes, test pushes and recalls succeed. Moderation runs WeChat's checker against its
 * stand-in (devtools/wechatServer.ts), which asks for review of a text with a `[review:…]`
 * marker: that is how the fixture gets a held message for the operator's verdicts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { loadSettings } from '../adapters/config/settings.js';
import { createJsonLogger } from '../adapters/logging/logger.js';
import type { HostResolver } from '../adapters/outbound/destinationGuard.js';
import type { Position } from '../domain/shared/eventStore.js';
import { startTidings, type Tidings } from '../server.js';
import { startBarkServer } from '../devtools/barkServer.js';
import { APP_ID, APP_SECRET, startFakeWechat } from '../devtools/wechatServer.js';
import type { FuzzTarget, LoggedEvent } from '../devtools/apiFuzz/fuzzer.js';

/** Where every outbound host name points during a fuzz run: loopback, where nothing listens. */
const NOWHERE = '127.0.0.2';
/** The fixture's device host: the one name that resolves to the bark-server stand-in. */
const BARK_HOST = 'bark.fuzz.example';
const DEVICE_KEY = 'fuzzdevice';
/** What the WeChat stand-in asks review for (its label 20002), so moderation holds the message. */
const HOLD_MARKER = '[review:20002]';
/** How many log lines (and stand-in requests) are kept between two reads. */
const KEPT_LINES = 1000;

const OPERATOR_TOKEN = 'fuzz-operator-token-0123456789';
const AUDIT_TOKEN = 'fuzz-auditor-token-0123456789';

/** A running fuzz target and how to stop it. */
export interface RunningFuzzTarget {
  readonly target: FuzzTarget;
  readonly tidings: Tidings;
  /** Every warn- and error-level line the server logged, oldest first (the last 1,000). */
  readonly logLines: readonly string[];
  /** Stops the server and the stand-ins, and removes its data folder. */
  close(): Promise<void>;
}

const samePosition = (a: Position | undefined, b: Position | undefined): boolean =>
  a?.commit === b?.commit && a?.prepare === b?.prepare;

/** Starts Tidings on 127.0.0.1, a random port and a fresh data folder. */
export const startFuzzTarget = async (): Promise<RunningFuzzTarget> => {
  const bark = await startBarkServer({ devices: [DEVICE_KEY] });
  const wechat = await startFakeWechat();
  const stopStandIns = async (): Promise<void> => {
    await Promise.all([bark.close(), wechat.close()]);
  };
  const dir = mkdtempSync(join(tmpdir(), 'tidings-fuzz-'));
  const settings = loadSettings({
    PORT: '0',
    TIDINGS_HOST: '127.0.0.1',
    TIDINGS_DATA_DIR: dir,
    TIDINGS_ADMIN_TOKEN: OPERATOR_TOKEN,
    TIDINGS_AUDIT_TOKEN: AUDIT_TOKEN,
    TIDINGS_SQLITE_SYNCHRONOUS: 'normal',
    TIDINGS_OUTBOUND_ALLOWLIST: `${NOWHERE},${BARK_HOST}`,
    TIDINGS_DELIVERY_MAX_ATTEMPTS: '2',
    TIDINGS_WECHAT_APPID: APP_ID,
    TIDINGS_WECHAT_SECRET: APP_SECRET,
    TIDINGS_WECHAT_API_BASE: wechat.base,
  });
  if (E.isLeft(settings)) {
    await stopStandIns();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(settings.left);
  }
  const logLines: string[] = [];
  let unread = 0;
  const logger = createJsonLogger('warn', (line) => {
    logLines.push(line);
    unread += 1;
    if (logLines.length > KEPT_LINES) logLines.shift();
  });
  const resolver: HostResolver = (host) =>
    Promise.resolve([{ address: host === BARK_HOST ? '127.0.0.1' : NOWHERE, family: 4 }]);
  let tidings: Tidings;
  try {
    tidings = await startTidings(settings.right, {
      logger,
      resolver,
      passwordCost: { N: 1024, r: 8, p: 1 },
      // Fuzzed logins fail by the thousand; the fixture must still be able to log in again.
      authFailureBurst: { perIp: 1_000_000, perUsername: 1_000_000 },
      registrationBurst: 1_000_000,
      // Test pushes are limited per person; the fuzzer's one person sends hundreds.
      testPushBurst: 1_000_000,
    });
  } catch (error) {
    await stopStandIns();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { store } = tidings;
  let seen = await store.headPosition();
  const takeNew = async (): Promise<readonly LoggedEvent[]> => {
    // The stand-ins keep every request they received, which a long run needs none of.
    if (bark.requests.length > KEPT_LINES) bark.reset();
    if (wechat.checks.length > KEPT_LINES) wechat.checks.splice(0);
    const found: LoggedEvent[] = [];
    for (;;) {
      const head = await store.headPosition();
      if (samePosition(head, seen)) return found;
      const batch = await store.readAll({
        ...(seen === undefined ? {} : { after: seen }),
        maxCount: 10_000,
      });
      if (batch.length === 0) return found;
      for (const event of batch) {
        found.push({
          type: event.type,
          correlationId: event.metadata.correlationId,
          data: event.data,
        });
      }
      seen = batch.at(-1)?.position ?? head;
    }
  };
  return {
    target: {
      base: tidings.url,
      operatorToken: OPERATOR_TOKEN,
      auditToken: AUDIT_TOKEN,
      log: { takeNew },
      logLines: {
        takeNew: () => {
          const lines = unread === 0 ? [] : logLines.slice(-Math.min(unread, logLines.length));
          unread = 0;
          return lines;
        },
      },
      device: { serverUrl: `http://${BARK_HOST}:${new URL(bark.url).port}`, deviceKey: DEVICE_KEY },
      holdMarker: HOLD_MARKER,
    },
    tidings,
    logLines,
    close: async () => {
      await tidings.close();
      await stopStandIns();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
