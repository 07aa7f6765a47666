import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestHandler } from 'express';

/** The Prometheus metrics of one Tidings instance (a registry per instance, so tests can run several). */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly eventsAppended: Counter<'aggregate'>;
  readonly processorFailures: Gauge<'processor'>;
  readonly processorPosition: Gauge<'processor'>;
  /** Registers a function that refreshes gauges just before each scrape. */
  onScrape(sample: () => void): void;
}

export const createMetrics = (): Metrics => {
  const registry = new Registry();
  const samplers: Array<() => void> = [];
  const collect = (): void => {
    for (const sample of samplers) sample();
  };
  collectDefaultMetrics({ register: registry, prefix: 'tidings_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'tidings_http_requests_total',
      help: 'HTTP requests answered, by route template and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'tidings_http_request_duration_seconds',
      help: 'Time to answer an HTTP request',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    eventsAppended: new Counter({
      name: 'tidings_events_appended_total',
      help: 'Events appended by command handlers, by aggregate',
      labelNames: ['aggregate'],
      registers: [registry],
    }),
    processorFailures: new Gauge({
      name: 'tidings_processor_consecutive_failures',
      help: 'Failed attempts at the batch a processor is on; 0 when healthy',
      labelNames: ['processor'],
      collect,
      registers: [registry],
    }),
    processorPosition: new Gauge({
      name: 'tidings_processor_position',
      help: 'Commit position of the last event a processor finished',
      labelNames: ['processor'],
      collect,
      registers: [registry],
    }),
    onScrape: (sample) => {
      samplers.push(sample);
    },
  };
};

/** Counts and times every request by its route template (not its raw path, to bound cardinality). */
export const metricsMiddleware =
  (metrics: Metrics): RequestHandler =>
  (request, response, next) => {
    const end = metrics.httpDuration.startTimer();
    response.on('finish', () => {
      const matched = (request.route as { path?: unknown } | undefined)?.path;
      const route = typeof matched === 'string' ? `${request.baseUrl}${matched}` : 'unmatched';
      metrics.httpRequests.inc({
        method: request.method,
        route,
        status: String(response.statusCode),
      });
      end({ method: request.method, route });
    });
    next();
  };
