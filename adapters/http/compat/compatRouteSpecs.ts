import * as t from 'io-ts';
import type { JsonSchema } from '../codecs.js';
import { boundedString, strictObject } from '../codecs.js';
import type { RouteSpec } from '../routeSpec.js';

/**
 * The compatible ingress in `/openapi.json` (docs/api.md, "Compatible ingress"). It is served by
 * its own router (compatIngress.ts), which reads Bark's and ntfy's requests itself; these
 * declarations document it: paths, what the bodies may be, the answers in each server's shape.
 */

const Key = boundedString('BindingKey', {
  pattern: /^tbk_[A-Za-z0-9_-]{43}$/,
  description: 'A binding key of an app that turned compatIngress on',
});
const Segment = boundedString('PathSegment', {
  minLength: 1,
  description: "URL-decoded as bark-server decodes it ('+' is a space)",
});

const BarkAccepted = t.type(
  {
    code: t.literal(200),
    message: t.literal('success'),
    data: t.type({ messageId: t.string, status: t.string }),
    timestamp: t.number,
  },
  'BarkAccepted',
);
const BarkError = t.type({ code: t.number, message: t.string, timestamp: t.number }, 'BarkError');
const NtfyAccepted = t.intersection(
  [
    t.type({
      id: t.string,
      time: t.number,
      event: t.literal('message'),
      topic: t.string,
      message: t.string,
    }),
    t.partial({ title: t.string, priority: t.number, click: t.string }),
  ],
  'NtfyAccepted',
);
const NtfyError = t.intersection(
  [t.type({ code: t.number, http: t.number, error: t.string }), t.partial({ link: t.string })],
  'NtfyError',
);

const BarkQuery = strictObject(
  'BarkQuery',
  {},
  {
    title: t.string,
    subtitle: t.string,
    body: t.string,
    group: t.string,
    id: t.string,
    url: t.string,
    level: t.string,
  },
);

const barkFields: JsonSchema = {
  type: 'object',
  properties: {
    device_key: { type: 'string', description: 'The binding key (`/push` only)' },
    title: { type: 'string' },
    subtitle: { type: 'string' },
    body: { type: 'string' },
    group: { type: 'string', description: 'Becomes the thread' },
    id: { type: 'string', description: 'The thread when there is no group' },
    url: { type: 'string' },
    level: { type: 'string', enum: ['active', 'timeSensitive', 'passive', 'critical'] },
  },
  required: ['body'],
};

const barkErrors = { statuses: [400, 403, 409, 410, 422, 429, 500], body: BarkError };
const ntfyErrors = { statuses: [400, 403, 409, 410, 422, 429, 500], body: NtfyError };

const ntfyHeaders: Readonly<Record<string, string>> = {
  'X-Title': 'The title (also Title, ti, t, or the query parameter title)',
  'X-Priority': '1–5 or min, low, default, high, max, urgent: 4–5 are timeSensitive, 1–2 passive',
  'X-Click': 'Opened on tap (also Click)',
  'X-Delay': 'Deliver later: 30s, 10m, 2h, 1d or a Unix time (also Delay, X-At, At, X-In, In)',
  'X-Message': 'The message, instead of the body (also Message, m)',
  'X-Sequence-ID': 'The thread (also Sequence-ID, SID)',
};

const barkPathSpecs = (segments: readonly string[]): RouteSpec[] =>
  (['get', 'post'] as const).map((method) => ({
    method,
    path: `/:key/${segments.map((name) => `:${name}`).join('/')}`,
    tag: 'compat',
    summary: `Bark: push ${segments.join(', ')} by path`,
    description:
      "bark-server's path form. The query (and a POST's form or JSON) adds Bark's fields; the path wins. Raw non-ASCII bytes in the request target are refused by the HTTP parser: percent-encode them.",
    auth: 'none',
    params: strictObject(
      'BarkPath',
      Object.fromEntries([['key', Key], ...segments.map((name) => [name, Segment])]) as t.Props,
    ),
    query: BarkQuery,
    ...(method === 'post'
      ? {
          protocol: {
            name: 'bark' as const,
            requestBodies: {
              'application/json': barkFields,
              'application/x-www-form-urlencoded': barkFields,
            },
            errors: barkErrors,
          },
        }
      : { protocol: { name: 'bark' as const, errors: barkErrors } }),
    responses: { 200: { description: 'Taken (bark-server\'s "success")', body: BarkAccepted } },
  }));

/** Every route of the compatible ingress, as documented. */
export const compatRouteSpecs: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/push',
    tag: 'compat',
    summary: "Bark: push with the key in the body (bark-server's API v2)",
    auth: 'none',
    protocol: {
      name: 'bark',
      requestBodies: {
        'application/json': { ...barkFields, required: ['device_key', 'body'] },
        'application/x-www-form-urlencoded': { ...barkFields, required: ['device_key', 'body'] },
      },
      errors: barkErrors,
    },
    responses: { 200: { description: 'Taken', body: BarkAccepted } },
  },
  ...barkPathSpecs(['body']),
  ...barkPathSpecs(['title', 'body']),
  ...barkPathSpecs(['title', 'subtitle', 'body']),
  ...(['post', 'put'] as const).map((method): RouteSpec => ({
    method,
    path: '/:key',
    tag: 'compat',
    summary: 'ntfy: publish to a topic (the binding key)',
    description:
      "The body is the message, UTF-8 whatever its content type. A POST whose JSON or form body has Bark's body or title field is Bark's key-only form instead, answered as Bark answers.",
    auth: 'none',
    params: strictObject('NtfyTopic', { key: Key }),
    protocol: {
      name: 'ntfy',
      requestBodies: { 'text/plain': { type: 'string' } },
      errors: ntfyErrors,
      headers: ntfyHeaders,
    },
    responses: {
      200: { description: 'Published (the message as ntfy answers it)', body: NtfyAccepted },
    },
  })),
  {
    method: 'post',
    path: '/',
    tag: 'compat',
    summary: 'ntfy: publish as JSON, the topic in the body',
    auth: 'none',
    protocol: {
      name: 'ntfy',
      requestBodies: {
        'application/json': {
          type: 'object',
          properties: {
            topic: { type: 'string', description: 'The binding key' },
            message: { type: 'string' },
            title: { type: 'string' },
            priority: { type: 'integer', minimum: 1, maximum: 5 },
            tags: { type: 'array', items: { type: 'string' } },
            click: { type: 'string' },
            delay: { type: 'string' },
          },
          required: ['topic'],
        },
      },
      errors: ntfyErrors,
    },
    responses: { 200: { description: 'Published', body: NtfyAccepted } },
  },
];
