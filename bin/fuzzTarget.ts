/**
 * A real Tidings, started in this process for the API fuzzer (devtools/apiFuzz/), with the
 * probes the fuzzer judges by: the event log's new events (read whenever the store's head
 * position moved) and the error-level log lines. `npm run fuzz` (bin/fuzz.ts) and the mocha
 * suite (test/adapters/http/apiFuzz.test.ts) start it the same way.
 *
 * Outbound requests never leave the machine: every host name resolves to 127.0.0.2, which is
 * allowlisted, so a fuzzed device URL is accepted and its pushes are refused at once.
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
import type { FuzzTarget, LoggedEvent } from '../devtools/apiFuzz/fuzzer.js';

/** Where every outbound host name points during a fuzz run: loopback, where nothing listens. */
const NOWHERE = '127.0.0.2';

const OPERATOR_TOKEN = 'fuzz-operator-token-0123456789';
const AUDIT_TOKEN = 'fuzz-auditor-token-0123456789';

/** A running fuzz target and how to stop it. */
export interface RunningFuzzTarget {
  readonly target: FuzzTarget;
  readonly tidings: Tidings;
  /** Every error-level line the server logged, oldest first (the last 1,000). */
  readonly errorLines: readonly string[];
  /** Stops the server and removes its data folder. */
  close(): Promise<void>;
}

const samePosition = (a: Position | undefined, b: Position | undefined): boolean =>
  a?.commit === b?.commit && a?.prepare === b?.prepare;

/** Starts Tidings on 127.0.0.1, a random port and a fresh data folder. */
export const startFuzzTarget = async (): Promise<RunningFuzzTarget> => {
  const dir = mkdtempSync(join(tmpdir(), 'tidings-fuzz-'));
  const settings = loadSettings({
    PORT: '0',
    TIDINGS_HOST: '127.0.0.1',
    TIDINGS_DATA_DIR: dir,
    TIDINGS_ADMIN_TOKEN: OPERATOR_TOKEN,
    TIDINGS_AUDIT_TOKEN: AUDIT_TOKEN,
    TIDINGS_SQLITE_SYNCHRONOUS: 'normal',
    TIDINGS_OUTBOUND_ALLOWLIST: NOWHERE,
    TIDINGS_DELIVERY_MAX_ATTEMPTS: '2',
  });
  if (E.isLeft(settings)) throw new Error(settings.left);
  const errorLines: string[] = [];
  let unread = 0;
  const logger = createJsonLogger('error', (line) => {
    errorLines.push(line);
    unread += 1;
    if (errorLines.length > 1000) errorLines.shift();
  });
  const resolver: HostResolver = () => Promise.resolve([{ address: NOWHERE, family: 4 }]);
  let tidings: Tidings;
  try {
    tidings = await startTidings(settings.right, {
      logger,
      resolver,
      passwordCost: { N: 1024, r: 8, p: 1 },
      // Fuzzed logins fail by the thousand; the fixture must still be able to log in again.
      authFailureBurst: { perIp: 1_000_000, perUsername: 1_000_000 },
      registrationBurst: 1_000_000,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { store } = tidings;
  let seen = await store.headPosition();
  const takeNew = async (): Promise<readonly LoggedEvent[]> => {
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
      errors: {
        takeNew: () => {
          const lines = unread === 0 ? [] : errorLines.slice(-Math.min(unread, errorLines.length));
          unread = 0;
          return lines;
        },
      },
    },
    tidings,
    errorLines,
    close: async () => {
      await tidings.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
