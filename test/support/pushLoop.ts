import type { CreatedApp } from './httpFixtures.js';
import { send, type BoundPerson } from './pipeline.js';
import type { TestServer } from './testServer.js';

/**
 * A steady stream of `POST /v1/messages` to one bound person, for tests that do something
 * (a backup) while the server keeps accepting work. `accepted` lists the messages answered 202,
 * in the order the answers came: a message in it at some moment was committed to the log
 * before that moment.
 */
export interface PushLoop {
  readonly accepted: readonly string[];
  /** Stops sending, waits for the sends in flight; rejects if any answer was not 202. */
  stop(): Promise<void>;
}

/** Settings without a per-app rate limit, so that a push loop is never slowed or refused. */
export const UNLIMITED_PUSHES: Readonly<Record<string, string>> = {
  TIDINGS_APP_RATE_BURST: '1000000',
  TIDINGS_APP_RATE_PER_SECOND: '1000000',
};

export const startPushing = (
  server: TestServer,
  app: CreatedApp,
  to: BoundPerson,
  concurrency = 2,
): PushLoop => {
  const accepted: string[] = [];
  let stopped = false;
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (!stopped) {
      sent += 1;
      const reply = await send(server, app, { key: to.key, title: 'Order', body: `Step ${sent}` });
      if (reply.status !== 202) {
        stopped = true;
        throw new Error(
          `a push during the loop answered ${reply.status}: ${JSON.stringify(reply.body)}`,
        );
      }
      accepted.push(reply.body.messageId);
    }
  };
  // Held, not left unhandled: the failure surfaces in stop().
  let failure: Error | undefined;
  const workers = Array.from({ length: concurrency }, () =>
    worker().catch((error: unknown) => {
      failure ??= error instanceof Error ? error : new Error(String(error));
    }),
  );
  return {
    accepted,
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
      if (failure !== undefined) throw failure;
    },
  };
};
