import { fileURLToPath } from 'node:url';
import express, { Router, type Request, type Response } from 'express';
import { cookie, SESSION_COOKIE } from '../http/routing.js';
import { hashSecret } from '../security/secrets.js';
import { redirectUrisOf, type AppQueries } from '../../projections/apps/appQueries.js';
import type { RecipientQueries } from '../../projections/recipients/recipientQueries.js';
import type { SafeHtml } from './html.js';
import { localPath, loginFor } from './navigation.js';
import { appsPage } from './pages/apps.js';
import { authPage } from './pages/auth.js';
import { consentPage, type ConsentRequest } from './pages/consent.js';
import { devicesPage } from './pages/devices.js';
import { errorPage } from './pages/error.js';
import { inboxPage } from './pages/inbox.js';
import { operatorPage } from './pages/operator.js';
import { csrfGuard, issueCsrfToken, pageHeaders } from './security.js';
import { isSystemApp } from '../../domain/app/systemApp.js';

/** What the web app needs from the rest of Tidings; the composition root passes its queries. */
export interface WebDeps {
  readonly apps: AppQueries;
  readonly recipients: RecipientQueries;
  /** TIDINGS_PUBLIC_URL: its origin counts as this server's for the CSRF check. */
  readonly publicUrl: string;
}

/** The folder of the browser scripts, the stylesheet and the icon (copied next to dist/ by `npm run build`). */
const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));

/** A logged-in person as the pages need them. */
interface Person {
  readonly recipientId: string;
  readonly username: string;
}

/**
 * The web app: server-rendered pages (register, log in, consent, inbox, my apps, my devices,
 * operator) whose small static scripts call the JSON API (the test push included). Mount it
 * before the API router: its CSRF guard (see {@link csrfGuard}) runs first for every request.
 */
export const createWebRouter = (deps: WebDeps): Router => {
  const router = Router();
  router.use(csrfGuard(deps.publicUrl));
  // No page lives under /v1/: API requests, once past the guard, leave this router at once
  // instead of being matched against every page route.
  router.use((request, _response, next) => {
    if (request.path.startsWith('/v1/')) next('router');
    else next();
  });

  const personOf = (request: Request): Person | undefined => {
    const sessionId = cookie(request, SESSION_COOKIE);
    if (sessionId === undefined) return undefined;
    const session = deps.recipients.session(hashSecret(sessionId), new Date().toISOString());
    return session === undefined
      ? undefined
      : { recipientId: session.recipient_id, username: session.username };
  };

  router.use(
    '/static',
    pageHeaders,
    express.static(STATIC_DIR, {
      index: false,
      dotfiles: 'ignore',
      // Revalidated on every load (ETag), so a new version is picked up at once.
      setHeaders: (response) => {
        response.setHeader('Cache-Control', 'no-cache');
      },
    }),
  );

  const secure = (request: Request): boolean =>
    request.secure || deps.publicUrl.startsWith('https://');

  const send = (request: Request, response: Response, status: number, page: SafeHtml): void => {
    issueCsrfToken(request, response, secure(request));
    response
      .status(status)
      .setHeader('Cache-Control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(page.text);
  };

  /** A page for logged-in people only: others log in first and come back here. */
  const personPage =
    (render: (person: Person) => SafeHtml) =>
    (request: Request, response: Response): void => {
      const person = personOf(request);
      if (person === undefined) {
        response.redirect(303, loginFor(request.originalUrl));
        return;
      }
      send(request, response, 200, render(person));
    };

  router.get('/', pageHeaders, (request, response) => {
    response.redirect(303, personOf(request) === undefined ? '/login' : '/inbox');
  });

  for (const mode of ['login', 'register'] as const) {
    router.get(`/${mode}`, pageHeaders, (request, response) => {
      const next = localPath(request.query['next']);
      if (personOf(request) !== undefined) {
        response.redirect(303, next);
        return;
      }
      send(request, response, 200, authPage(mode, next));
    });
  }

  router.get('/authorize', pageHeaders, (request, response) => {
    const person = personOf(request);
    const checked = checkConsentRequest(request.query, deps.apps);
    if (checked.kind === 'invalid') {
      send(
        request,
        response,
        checked.status,
        errorPage('This permission request cannot be used', checked.detail, person),
      );
      return;
    }
    if (person === undefined) {
      response.redirect(303, loginFor(request.originalUrl));
      return;
    }
    send(
      request,
      response,
      200,
      consentPage(checked.request, person, loginFor(request.originalUrl)),
    );
  });

  router.get('/inbox', pageHeaders, personPage(inboxPage));
  router.get('/apps', pageHeaders, personPage(appsPage));
  router.get('/devices', pageHeaders, personPage(devicesPage));
  router.get('/operator', pageHeaders, (request, response) => {
    send(request, response, 200, operatorPage(personOf(request)));
  });

  return router;
};

type ConsentCheck =
  | { readonly kind: 'valid'; readonly request: ConsentRequest }
  | { readonly kind: 'invalid'; readonly status: number; readonly detail: string };

/**
 * A parameter given once, as well-formed text: one whose percent-escapes are not UTF-8 (see
 * `parseQuery`) would reach the consent as U+FFFD, so it is refused like a missing one.
 */
const single = (value: unknown): string | undefined =>
  typeof value === 'string' && value.isWellFormed() ? value : undefined;

/**
 * Checks `GET /authorize?app_id&openid&redirect_uri&state` before anything is shown: every
 * parameter once and within its bounds, a known app that may be authorized, and a redirect URI
 * the app registered. Anything else is an error page, never a redirect.
 */
const checkConsentRequest = (
  query: Readonly<Record<string, unknown>>,
  apps: AppQueries,
): ConsentCheck => {
  const appId = single(query['app_id']);
  const openid = single(query['openid']);
  const redirectUri = single(query['redirect_uri']);
  const state = query['state'] === undefined ? undefined : single(query['state']);
  const problems: string[] = [];
  if (appId === undefined || appId.length === 0 || appId.length > 64)
    problems.push('app_id is missing or not valid');
  if (openid === undefined || openid.length === 0 || openid.length > 128)
    problems.push('openid is missing or not valid');
  if (redirectUri === undefined || redirectUri.length === 0 || redirectUri.length > 2048)
    problems.push('redirect_uri is missing or not valid');
  if (query['state'] !== undefined && (state === undefined || state.length > 512))
    problems.push('state is not valid');
  if (
    appId === undefined ||
    openid === undefined ||
    redirectUri === undefined ||
    problems.length > 0
  )
    return {
      kind: 'invalid',
      status: 400,
      detail: `The link is malformed: ${problems.join('; ')}.`,
    };
  const app = apps.byId(appId);
  if (app === undefined || isSystemApp(appId)) {
    return { kind: 'invalid', status: 404, detail: `There is no app ${appId} to authorize.` };
  }
  if (!redirectUrisOf(app).includes(redirectUri)) {
    return {
      kind: 'invalid',
      status: 400,
      detail: `${redirectUri} is not an address ${app.name} registered, so Tidings will not send you there.`,
    };
  }
  if (app.status === 'banned') {
    return {
      kind: 'invalid',
      status: 403,
      detail: `${app.name} is banned for abuse and cannot be authorized.`,
    };
  }
  return {
    kind: 'valid',
    request: { app, openid, redirectUri, state },
  };
};
