import { Router, type Request } from 'express';
import { Gauge } from 'prom-client';
import type { ProcessorRunner } from '../application/processing/processor.js';
import type { EventStore } from '../domain/shared/eventStore.js';
import type { Logger } from '../domain/shared/logger.js';
import type { Metrics } from '../adapters/http/metrics.js';
import { sendProblem } from '../adapters/http/problem.js';
import { isCompatRequest } from '../adapters/http/compat/compatIngress.js';
import type { MessageQueries } from '../projections/messages/messageQueries.js';
import type { StopStack } from './stopStack.js';

/**
 * Admission on the delivery lag (README "Settings", `TIDINGS_ADMISSION_MAX_LAG_SECONDS`): a
 * pipeline that accepts faster than it delivers would grow its backlog without bound, each new
 * message waiting longer for its push. So the node measures how far delivery is behind and,
 * past the limit, refuses new messages (503 `overloaded` with Retry-After) until it has caught
 * up again; everything it accepted before is delivered. Reads, recalls and consent go on.
 *
 * The lag is the age of the oldest work not done yet: the first event the moderation or routing
 * stage has not reached (when it runs on this node), or the oldest device delivery never tried
 * that no attempt on this node is making (one slow or hanging attempt, up to a plugin's 30 s, is
 * under way, not a backlog; the deliveries waiting behind it do count).
 * Measured four times a second, off the request path. Refusing stops once the lag is under half
 * the limit. A delivery is due from its routing (the message row's last change while it waits):
 * one held for review or scheduled is not counted from its creation.
 */

/** How far behind delivery is. */
export interface DeliveryLag {
  /** Age of the oldest waiting work, in seconds (0 when nothing waits). */
  readonly seconds: number;
  /** Events the moderation or routing stage on this node has not reached yet (at most 100). */
  readonly eventsBehind: number;
}

/** The stages whose lag holds up a new message's push. */
const PIPELINE_STAGES: ReadonlySet<string> = new Set(['moderation', 'router']);
const SAMPLE_EVERY_MS = 250;
/** With admission off the lag is only reported: measured once a second. */
const SAMPLE_EVERY_MS_OFF = 1_000;
/** The most waiting events of one stage a sample counts. */
const EVENTS_COUNTED = 100;
/** Refusing stops once the lag is under this share of the limit (no flapping at the edge). */
const RESUME_BELOW = 0.5;
/**
 * Deliveries waiting longer than this many times the limit are left out of the lag: a delivery
 * stuck for good (its record keeps failing, an EventStoreDB group parked its event) must not
 * close admission for ever. The worker's logs name them.
 */
const STUCK_AFTER = 10;

export interface AdmissionParts {
  readonly store: EventStore;
  /** Every processor of this node; the pipeline's stages are picked out by name. */
  readonly runners: readonly ProcessorRunner[];
  readonly messages: Pick<MessageQueries, 'oldestFreshDelivery'>;
  /** Whether this node is making an attempt of the delivery now (the delivery worker's). */
  readonly inFlight?: (messageId: string, channel: string) => boolean;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** 0: measure and report, never refuse. */
  readonly maxLagSeconds: number;
  readonly now?: () => number;
}

export interface Admission {
  /** Refuses new messages while the lag is over the limit; before the API's routes. */
  readonly router: Router;
  /**
   * What `/readyz` shows of it. Not a readiness check: every node of a deployment sees the same
   * backlog, and a balancer that took them all out would stop the reads and the web app too.
   */
  details(): Readonly<Record<string, unknown>>;
  current(): DeliveryLag;
}

/** The routes that accept new messages: the API's and the compatible ingress (Bark, ntfy). */
const acceptsMessages = (request: Request): boolean => {
  // Express matches paths without case and with a trailing slash; so does this.
  const path = request.path.toLowerCase().replace(/\/+$/, '');
  return (
    (request.method === 'POST' && (path === '/v1/messages' || path === '/v1/messages/batch')) ||
    isCompatRequest(request)
  );
};

export const startAdmission = (parts: AdmissionParts, stops: StopStack): Admission => {
  const now = parts.now ?? Date.now;
  let lag: DeliveryLag = { seconds: 0, eventsBehind: 0 };
  let sampling = false;
  let refusing = false;

  const sample = async (): Promise<void> => {
    const stages = parts.runners.filter(
      (runner) => PIPELINE_STAGES.has(runner.name) && runner.isRunning,
    );
    let oldest = Number.POSITIVE_INFINITY;
    let eventsBehind = 0;
    for (const stage of stages) {
      const reached = stage.reached;
      const eventTypes = stage.eventTypes;
      // The stage's own events after where it is (counted up to a page's worth).
      const waiting = await parts.store.readAll({
        maxCount: EVENTS_COUNTED,
        ...(reached === undefined ? {} : { after: reached }),
        ...(eventTypes === undefined ? {} : { eventTypes }),
      });
      eventsBehind = Math.max(eventsBehind, waiting.length);
      const next = waiting[0];
      if (next !== undefined) oldest = Math.min(oldest, Date.parse(next.metadata.occurredAt));
    }
    const stuckBefore =
      parts.maxLagSeconds > 0 ? now() - STUCK_AFTER * parts.maxLagSeconds * 1_000 : 0;
    const fresh = parts.messages.oldestFreshDelivery(
      new Date(stuckBefore).toISOString(),
      parts.inFlight,
    );
    if (fresh !== undefined) oldest = Math.min(oldest, Date.parse(fresh));
    const seconds = Number.isFinite(oldest) ? Math.max(0, (now() - oldest) / 1000) : 0;
    lag = { seconds, eventsBehind };
    const over =
      parts.maxLagSeconds > 0 &&
      (refusing ? seconds >= RESUME_BELOW * parts.maxLagSeconds : seconds > parts.maxLagSeconds);
    if (over !== refusing) {
      refusing = over;
      if (over) {
        parts.logger.warn('delivery is behind: refusing new messages until it catches up', {
          lagSeconds: Math.round(seconds),
          limitSeconds: parts.maxLagSeconds,
        });
      } else {
        parts.logger.info('delivery caught up: accepting new messages again', {
          lagSeconds: Math.round(seconds),
        });
      }
    }
  };
  const timer = setInterval(
    () => {
      if (sampling) return;
      sampling = true;
      sample()
        .catch((error: unknown) => {
          parts.logger.warn('could not measure the delivery lag', { error });
        })
        .finally(() => {
          sampling = false;
        });
    },
    parts.maxLagSeconds > 0 ? SAMPLE_EVERY_MS : SAMPLE_EVERY_MS_OFF,
  );
  timer.unref();
  stops.push(() => {
    clearInterval(timer);
  });

  new Gauge({
    name: 'tidings_delivery_lag_seconds',
    help: 'Age of the oldest work the pipeline has not done yet (an unmoderated or unrouted message, or a push never tried)',
    registers: [parts.metrics.registry],
    collect() {
      this.set(lag.seconds);
    },
  });
  new Gauge({
    name: 'tidings_pipeline_events_behind',
    help: 'Events the moderation and routing stages on this node have not reached yet',
    registers: [parts.metrics.registry],
    collect() {
      this.set(lag.eventsBehind);
    },
  });
  new Gauge({
    name: 'tidings_admission_refusing',
    help: '1 while new messages are refused because delivery is behind',
    registers: [parts.metrics.registry],
    collect() {
      this.set(refusing ? 1 : 0);
    },
  });

  const router = Router();
  router.use((request, response, next) => {
    if (!refusing || !acceptsMessages(request)) {
      next();
      return;
    }
    const retryAfter = Math.max(1, Math.min(30, Math.ceil(lag.seconds - parts.maxLagSeconds)));
    response.setHeader('Retry-After', String(retryAfter));
    sendProblem(
      response,
      'overloaded',
      `delivery is ${Math.round(lag.seconds)} s behind (the limit is ${parts.maxLagSeconds} s): new messages are refused until it catches up; nothing accepted is lost`,
      { lagSeconds: Math.round(lag.seconds), limitSeconds: parts.maxLagSeconds },
    );
  });
  return {
    router,
    details: () => ({
      lagSeconds: Math.round(lag.seconds * 10) / 10,
      eventsBehind: lag.eventsBehind,
      refusing,
      limitSeconds: parts.maxLagSeconds,
    }),
    current: () => lag,
  };
};
