import * as t from 'io-ts';
import { boundedString, queryBoolean, queryInt, strictObject } from '../../adapters/http/codecs.js';
import type { RouteSpec } from '../../adapters/http/routeSpec.js';
import {
  HttpUrl,
  IsoTime,
  NonNegativeInt,
  PositiveInt,
  withOptional,
} from '../../domain/shared/codecs.js';

/**
 * Sample codecs and route declarations, shaped like the real API's, for the tests of the
 * io-ts → JSON Schema conversion and of the OpenAPI document built from them.
 */

/** A union of literals (an enum in JSON Schema). */
export const Level = t.union([t.literal('strong'), t.literal('weak')]);

/** A strict body with required and optional fields, an enum, a URL and bounded strings. */
export const AuthorizeBody = strictObject(
  'AuthorizeBody',
  {
    appId: boundedString('AppId', { minLength: 1, maxLength: 64 }),
    openid: boundedString('Openid', { minLength: 1, maxLength: 128 }),
    redirectUri: HttpUrl,
    decision: t.union([t.literal('allow'), t.literal('deny')]),
  },
  { state: boundedString('State', { maxLength: 512 }), level: Level },
);

/** A strict body with formats (date-time, uri) and an integer minimum. */
export const MessageBody = strictObject(
  'MessageBody',
  {
    key: boundedString('BindingKey', { minLength: 1 }),
    body: boundedString('Body', { maxLength: 4000 }),
  },
  {
    title: boundedString('Title', { maxLength: 256 }),
    url: HttpUrl,
    level: t.union([t.literal('active'), t.literal('timeSensitive'), t.literal('passive')]),
    deliverAt: IsoTime,
    delaySeconds: PositiveInt,
  },
);

/**
 * Five routes covering each kind of caller, path and query parameters, a JSON body, an idempotent
 * route, success answers with and without a body, and declared errors.
 */
export const routes: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/v1/me/authorizations',
    summary: 'Allow or deny an app',
    tag: 'recipient',
    auth: 'recipient',
    body: AuthorizeBody,
    responses: {
      200: { description: 'Where to send the browser', body: t.type({ redirect: HttpUrl }) },
    },
    errors: ['invalid_redirect_uri', 'not_found'],
  },
  {
    method: 'get',
    path: '/v1/audit/streams/:stream',
    summary: 'The events of one stream',
    description: 'Oldest first.',
    tag: 'auditor',
    auth: 'auditor',
    params: strictObject('StreamParams', {
      stream: boundedString('Stream', { minLength: 1, maxLength: 200 }),
    }),
    query: strictObject(
      'StreamQuery',
      { limit: queryInt('Limit', { min: 1, max: 500 }) },
      {
        after: queryInt('After', { min: 0, max: Number.MAX_SAFE_INTEGER }),
        verbose: queryBoolean('Verbose'),
      },
    ),
    responses: {
      200: {
        description: 'The events',
        body: t.type({
          items: t.array(
            t.type({
              position: NonNegativeInt,
              type: t.string,
              data: t.UnknownRecord,
              metadata: withOptional({ occurredAt: IsoTime }, { causationId: t.string }),
            }),
          ),
          next: t.union([NonNegativeInt, t.null]),
        }),
      },
    },
    errors: ['not_found'],
  },
  {
    method: 'post',
    path: '/v1/messages',
    summary: 'Send a message',
    tag: 'app',
    auth: 'app',
    body: MessageBody,
    idempotent: true,
    responses: {
      202: {
        description: 'Accepted',
        body: t.type({
          messageId: t.string,
          status: t.keyof({ accepted: null, scheduled: null, suppressed: null }),
        }),
      },
    },
    errors: ['app_suspended', 'app_banned', 'binding_revoked', 'rate_limited', 'not_found'],
  },
  {
    method: 'post',
    path: '/v1/auth/login',
    summary: 'Log in',
    tag: 'recipient',
    auth: 'none',
    body: strictObject('Credentials', {
      username: boundedString('Username', { minLength: 3, maxLength: 32, pattern: /^[a-z0-9_]+$/ }),
      password: boundedString('Password', { minLength: 8, maxLength: 200 }),
    }),
    responses: { 200: { description: 'Logged in; the session cookie is set' } },
    errors: ['rate_limited'],
  },
  {
    method: 'delete',
    path: '/v1/me/inbox/:messageId',
    summary: 'Archive a message',
    tag: 'recipient',
    auth: 'recipient',
    responses: { 204: { description: 'Archived' } },
    errors: ['not_found'],
  },
];
