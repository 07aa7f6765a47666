import * as E from 'fp-ts/lib/Either.js';
import type { HttpClient, HttpResult } from '../../channels/httpClient.js';
import { signatureOf, signingKeyOf } from '../../channels/webhook/webhookSecret.js';
import type { CallbackAttemptOutcome } from '../../domain/callback/callbackCommands.js';
import type { CallbackData } from '../../domain/callback/callbackEvents.js';
import {
  defaultCallbackRetryPolicy,
  nextCallbackAttempt,
  type CallbackRetryPolicy,
} from '../../domain/callback/callbackRetry.js';
import type { AppCallback } from '../../domain/app/appDecider.js';
import { parseRetryAfter } from '../../domain/delivery/retryPolicy.js';
import type { EventStore } from '../../domain/shared/eventStore.js';
import type { Logger } from '../../domain/shared/logger.js';
import type { StateCache } from '../../domain/shared/stateCache.js';
import type { CallbackQueries } from '../../projections/callbacks/callbackQueries.js';
import type { CallbackDeliveryRow } from '../../projections/callbacks/callbacksProjection.js';
import type { CommandBus } from '../commandBus.js';
import { loadState } from '../processing/streamState.js';
import type { SecretBox } from '../shared/secretBox.js';
import { callbackBodyText } from './callbackEvent.js';
import { RefusedClaims, type AttemptClaims } from '../shared/attemptClaims.js';

export interface CallbackWorkerOptions {
  /** Records attempts; it must wait for the callbacks read model, which the worker reads next. */
  readonly commands: CommandBus;
  readonly callbacks: CallbackQueries;
  /** The app's callback as it is now (URL, secrets), read from its stream. */
  readonly store: EventStore;
  readonly cache?: StateCache;
  /** The outbound-guarded client: no private addresses, no redirects. */
  readonly http: HttpClient;
  readonly secrets: SecretBox;
  readonly logger: Logger;
  readonly retry?: CallbackRetryPolicy;
  /** Time limit of one attempt; default 10,000 ms. */
  readonly timeoutMs?: number;
  /** Attempts in flight at once for one app; default 2. */
  readonly perApp?: number;
  /** Attempts in flight at once in all; default 32. */
  readonly concurrency?: number;
  /** How often to look for due deliveries when nothing wakes the worker; default 1,000 ms. */
  readonly pollIntervalMs?: number;
  readonly now?: () => Date;
  readonly random?: () => number;
  /** With several nodes: each attempt is claimed first, so one node sends it. Absent on one node. */
  readonly claims?: AttemptClaims;
}

const SNIPPET_CHARS = 200;

const snippet = (text: string): string => {
  const chars = Array.from(text.replace(/\s+/g, ' ').trim());
  return chars.length <= SNIPPET_CHARS
    ? chars.join('')
    : `${chars.slice(0, SNIPPET_CHARS).join('')}…`;
};

/** What one attempt came to, and the wait its receiver asked for. */
interface Sent {
  readonly outcome: CallbackAttemptOutcome;
  readonly retryAfterMs?: number;
}

/** What one request came to, as the delivery's record says it. */
const outcomeOf = (result: HttpResult, now: number): Sent => {
  switch (result.kind) {
    case 'answered': {
      if (result.status >= 200 && result.status < 300) {
        return { outcome: { kind: 'delivered', status: result.status } };
      }
      const said = snippet(result.body);
      const redirect =
        result.status >= 300 && result.status < 400 ? ' (redirects are not followed)' : '';
      const retryAfterMs = parseRetryAfter(result.headers['retry-after'], now);
      return {
        outcome: {
          kind: 'failed',
          status: result.status,
          error: `the receiver answered ${result.status}${redirect}${said === '' ? '' : `: ${said}`}`,
        },
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    }
    case 'refused':
      return {
        outcome: {
          kind: 'failed',
          error: `the callback's address is not allowed: ${result.detail}`,
        },
      };
    case 'timed_out':
      return {
        outcome: { kind: 'failed', error: `no answer within ${result.timeoutMs} ms` },
      };
    case 'failed':
      return {
        outcome: {
          kind: 'failed',
          error: `could not reach the receiver (${result.code}): ${result.message}`,
        },
      };
    default: {
      const _exhaustive: never = result;
      return _exhaustive;
    }
  }
};

/**
 * Delivers app callbacks (docs/api.md, "App callbacks"): takes due deliveries from the callbacks
 * read model, POSTs each one signed as Standard Webhooks prescribe, and records every attempt as
 * an event (delivered; failed with the next try's time; failed and given up). At least once:
 * a crash between a send and its record sends that attempt again, with the same `webhook-id`.
 *
 * One app's receiver cannot hold up another's: each app has at most `perApp` attempts in flight
 * (a hanging receiver ties up only its own), and each attempt ends at `timeoutMs`. Nothing here
 * shares a queue or a slot with message delivery.
 */
export class CallbackWorker {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly busyApps = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly retry: CallbackRetryPolicy;
  private readonly timeoutMs: number;
  private readonly perApp: number;
  private readonly concurrency: number;

  constructor(private readonly options: CallbackWorkerOptions) {
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.retry = options.retry ?? defaultCallbackRetryPolicy;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.perApp = options.perApp ?? 2;
    this.concurrency = options.concurrency ?? 32;
    this.refused =
      options.claims === undefined ? undefined : new RefusedClaims(options.claims.holdMs);
  }

  /** Attempts another node claimed: skipped until their claim may have run out. */
  private readonly refused: RefusedClaims | undefined;

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
    this.wake();
  }

  /** Stops taking new work and waits for the attempts in flight (each ends at its time limit). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await Promise.all(this.inFlight.values());
  }

  /** Attempts in flight now. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Looks for due deliveries now (the callbacks read model changed, or an attempt ended). */
  wake(): void {
    if (!this.running) return;
    // Synchronous: an attempt's end (which wakes the worker too) cannot land in the middle.
    try {
      this.scan();
    } catch (error) {
      this.options.logger.error('callback scan failed', { error: String(error) });
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.wake();
      if (this.running) this.schedule();
    }, this.options.pollIntervalMs ?? 1_000);
    this.timer.unref();
  }

  private scan(): void {
    const now = this.now().toISOString();
    for (const appId of this.options.callbacks.dueApps(now)) {
      if (this.inFlight.size >= this.concurrency) return;
      const busy = this.busyApps.get(appId) ?? 0;
      if (busy >= this.perApp) continue;
      // The rows in flight still read as due until their record lands: ask for enough to skip them.
      const rows = this.options.callbacks.dueOfApp(appId, now, this.perApp + busy);
      for (const row of rows) {
        if ((this.busyApps.get(appId) ?? 0) >= this.perApp) break;
        if (this.inFlight.size >= this.concurrency) return;
        if (this.inFlight.has(row.delivery_id)) continue;
        if (this.refused?.has(claimKeyOf(row)) === true) continue;
        this.begin(row);
      }
    }
  }

  private begin(row: CallbackDeliveryRow): void {
    this.busyApps.set(row.app_id, (this.busyApps.get(row.app_id) ?? 0) + 1);
    const attempt = this.attempt(row)
      .catch((error: unknown) => {
        // The record did not land: the row is still due, and the next look sends it again.
        this.options.logger.warn('callback attempt not recorded', {
          deliveryId: row.delivery_id,
          error: String(error),
        });
      })
      .finally(() => {
        this.inFlight.delete(row.delivery_id);
        const left = (this.busyApps.get(row.app_id) ?? 1) - 1;
        if (left === 0) this.busyApps.delete(row.app_id);
        else this.busyApps.set(row.app_id, left);
        this.wake();
      });
    this.inFlight.set(row.delivery_id, attempt);
  }

  /** One attempt of one delivery, sent and recorded. */
  private async attempt(row: CallbackDeliveryRow): Promise<void> {
    const claims = this.options.claims;
    const claimKey = claimKeyOf(row);
    if (claims !== undefined && !(await claims.claim(claimKey))) {
      this.refused?.add(claimKey);
      return;
    }
    const app = await loadState(this.options.store, 'app', row.app_id, this.options.cache);
    const callback = app.status === 'empty' ? undefined : app.callback;
    const started = performance.now();
    const sent: Sent =
      callback === undefined
        ? { outcome: { kind: 'failed', error: 'the app removed its callback' } }
        : await this.send(row, callback);
    const durationMs = Math.round(performance.now() - started);
    const at = this.now().getTime();
    const attempt = row.attempts + 1;
    let outcome: CallbackAttemptOutcome = sent.outcome;
    if (outcome.kind === 'failed' && callback !== undefined) {
      const retryAt = nextCallbackAttempt(
        this.retry,
        attempt,
        Date.parse(row.window_start),
        at,
        this.random,
        sent.retryAfterMs,
      );
      if (retryAt !== undefined) outcome = { ...outcome, retryAt: new Date(retryAt).toISOString() };
    }
    const recorded = await this.options.commands.execute(
      'callback',
      row.delivery_id,
      {
        type: 'RecordCallbackAttempt',
        data: { deliveryId: row.delivery_id, attempt, durationMs, outcome },
        metadata: { now: new Date(at).toISOString() },
      },
      {
        commandId: `callback-attempt:${row.delivery_id}:${attempt}`,
        actor: { kind: 'system', id: 'callbacks' },
      },
    );
    if (E.isLeft(recorded)) throw new Error(`${recorded.left.code}: ${recorded.left.message}`);
    claims?.done(claimKey).catch((error: unknown) => {
      this.options.logger.warn('could not mark a callback attempt done', { claimKey, error });
    });
    if (outcome.kind === 'failed') {
      this.options.logger.debug('callback not delivered', {
        deliveryId: row.delivery_id,
        appId: row.app_id,
        attempt,
        error: outcome.error,
        ...(outcome.retryAt === undefined ? { givenUp: true } : { retryAt: outcome.retryAt }),
      });
    }
  }

  /** POSTs the event, signed with the app's secret (and the one before, during a rotation). */
  private async send(row: CallbackDeliveryRow, callback: AppCallback): Promise<Sent> {
    const now = this.now();
    const keys = [
      callback.secret,
      ...(callback.previousSecret !== undefined &&
      callback.previousSecretUntil !== undefined &&
      Date.parse(callback.previousSecretUntil) > now.getTime()
        ? [callback.previousSecret]
        : []),
    ].map((sealed) => signingKeyOf(this.options.secrets.open(sealed)));
    const seconds = Math.floor(now.getTime() / 1000);
    const body = callbackBodyText({
      type: row.event_type,
      id: row.delivery_id,
      occurredAt: row.occurred_at,
      data: JSON.parse(row.data) as CallbackData,
    });
    const signatures = keys.flatMap((key) =>
      key.kind === 'key' ? [signatureOf(key.bytes, row.delivery_id, seconds, body)] : [],
    );
    if (signatures.length === 0) {
      return { outcome: { kind: 'failed', error: "the callback's secret cannot sign" } };
    }
    const result = await this.options.http.request({
      method: 'POST',
      url: callback.url,
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        'webhook-id': row.delivery_id,
        'webhook-timestamp': String(seconds),
        'webhook-signature': signatures.join(' '),
      },
      body,
      timeoutMs: this.timeoutMs,
    });
    return outcomeOf(result, this.now().getTime());
  }
}

/** The claim of one attempt of one callback delivery (see {@link AttemptClaims}). */
const claimKeyOf = (row: CallbackDeliveryRow): string =>
  `callback:${row.delivery_id}:${row.attempts + 1}`;
