import { fileURLToPath } from 'node:url';
import express, { Router, type Request, type Response } from 'express';
import { cookie, SESSION_COOKIE } from '../http/routing.js';
import { hashSecret } from '../security/secrets.js';
import { redirectUrisOf, type AppQueries } from '../../projections/apps/appQueries.js';
import type { RecipientQueries } from '../../projections/recipients/recipientQueries.js';
import type { SafeHtml } from './html.js';
import { LANGUAGE_PARAMETER, type PageContext } from './layout.js';
import { localPath, loginFor } from './navigation.js';
import { pageText, type PageText } from './pageText.js';
import { accountPage } from './pages/account.js';
import { appsPage } from './pages/apps.js';
import { authPage } from './pages/auth.js';
import { consentPage, type ConsentRequest } from './pages/consent.js';
import { devicesPage } from './pages/devices.js';
import { errorPage } from './pages/error.js';
import { inboxPage } from './pages/inbox.js';
import { operatorPage } from './pages/operator.js';
import { settingsPage } from './pages/settings.js';
import { chooseLocale } from '../../application/i18n/chooseLocale.js';
import type { MessageKey } from '../../application/i18n/catalogue.js';
import { isLocale } from '../../domain/recipient/recipientPreferences.js';
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

/** The language switch's cookie: a visitor's choice of language (a person's is a preference). */
export const LOCALE_COOKIE = 'tidings_locale';

/** Every page's path: the language switch works on each. */
const PAGE_PATHS = [
  '/',
  '/login',
  '/register',
  '/authorize',
  '/inbox',
  '/apps',
  '/devices',
  '/settings',
  '/account',
  '/operator',
];

/**
 * The notices a page can be sent to with `?notice=`: fixed sentences of the catalogue, so an
 * address can never make a page say something of its own.
 */
const NOTICES: Readonly<Record<string, MessageKey>> = {
  'account-deleted': 'account.deletedNotice',
};

/** A logged-in person as the pages need them. */
interface Person {
  readonly recipientId: string;
  readonly username: string;
}

/**
 * The web app: server-rendered pages (register, log in, consent, inbox, my apps, my devices,
 * settings, my account, operator), each in the person's language (their `locale` preference,
 * else the switch's cookie, else Accept-Language, else English), whose small static scripts call the JSON API (the test push included). Mount it
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

  /** The words of a page for this request and person. */
  const textOf = (request: Request, person: Person | undefined): PageText => {
    const preferences =
      person === undefined ? undefined : deps.recipients.preferences(person.recipientId);
    const locale = chooseLocale({
      preference: preferences?.locale,
      cookie: cookie(request, LOCALE_COOKIE),
      acceptLanguage: request.headers['accept-language'],
    });
    return pageText(locale, preferences?.timeZone ?? null);
  };
  const contextOf = (request: Request, person: Person | undefined): PageContext => ({
    text: textOf(request, person),
    here: request.originalUrl,
  });

  // The language switch (`?lang=zh-CN` on any page): the choice goes into a cookie, and the
  // browser comes back to the same page without the parameter. A signed-in person's page
  // script saves the choice as their `locale` preference before it follows the link.
  router.get(PAGE_PATHS, pageHeaders, (request, response, next) => {
    const wanted = request.query[LANGUAGE_PARAMETER];
    if (wanted === undefined) {
      next();
      return;
    }
    const url = new URL(request.originalUrl, 'http://tidings.invalid');
    url.searchParams.delete(LANGUAGE_PARAMETER);
    if (isLocale(wanted)) {
      response.append(
        'Set-Cookie',
        [
          `${LOCALE_COOKIE}=${wanted}`,
          'Path=/',
          'SameSite=Lax',
          'HttpOnly',
          `Max-Age=${365 * 24 * 3600}`,
        ]
          .concat(secure(request) ? ['Secure'] : [])
          .join('; '),
      );
    }
    response.redirect(303, localPath(`${url.pathname}${url.search}`, '/'));
  });

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
    (render: (page: PageContext, person: Person) => SafeHtml) =>
    (request: Request, response: Response): void => {
      const person = personOf(request);
      if (person === undefined) {
        response.redirect(303, loginFor(request.originalUrl));
        return;
      }
      send(request, response, 200, render(contextOf(request, person), person));
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
      const page = contextOf(request, undefined);
      const notice = noticeOf(request.query['notice']);
      send(
        request,
        response,
        200,
        authPage(
          notice === undefined ? page : { ...page, notice: page.text.t(notice) },
          mode,
          next,
        ),
      );
    });
  }

  router.get('/authorize', pageHeaders, (request, response) => {
    const person = personOf(request);
    const page = contextOf(request, person);
    const checked = checkConsentRequest(request.query, deps.apps, page.text);
    if (checked.kind === 'invalid') {
      send(
        request,
        response,
        checked.status,
        errorPage(page, page.text.t('error.consentTitle'), checked.detail, person),
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
      consentPage(page, checked.request, person, loginFor(request.originalUrl)),
    );
  });

  router.get('/inbox', pageHeaders, personPage(inboxPage));
  router.get('/apps', pageHeaders, personPage(appsPage));
  router.get('/devices', pageHeaders, personPage(devicesPage));
  router.get('/settings', pageHeaders, personPage(settingsPage));
  router.get('/account', pageHeaders, personPage(accountPage));
  router.get('/operator', pageHeaders, (request, response) => {
    const person = personOf(request);
    send(request, response, 200, operatorPage(contextOf(request, person), person));
  });

  return router;
};

/** The catalogue key of a known `?notice=` value; undefined for anything else. */
const noticeOf = (value: unknown): MessageKey | undefined =>
  typeof value === 'string' && Object.hasOwn(NOTICES, value) ? NOTICES[value] : undefined;

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
  { t }: PageText,
): ConsentCheck => {
  const appId = single(query['app_id']);
  const openid = single(query['openid']);
  const redirectUri = single(query['redirect_uri']);
  const state = query['state'] === undefined ? undefined : single(query['state']);
  const problems: string[] = [];
  if (appId === undefined || appId.length === 0 || appId.length > 64)
    problems.push(t('error.badParameter', { name: 'app_id' }));
  if (openid === undefined || openid.length === 0 || openid.length > 128)
    problems.push(t('error.badParameter', { name: 'openid' }));
  if (redirectUri === undefined || redirectUri.length === 0 || redirectUri.length > 2048)
    problems.push(t('error.badParameter', { name: 'redirect_uri' }));
  if (query['state'] !== undefined && (state === undefined || state.length > 512))
    problems.push(t('error.badState'));
  if (
    appId === undefined ||
    openid === undefined ||
    redirectUri === undefined ||
    problems.length > 0
  )
    return {
      kind: 'invalid',
      status: 400,
      detail: t('error.malformed', { problems: problems.join(t('error.listSeparator')) }),
    };
  const app = apps.byId(appId);
  if (app === undefined || isSystemApp(appId)) {
    return { kind: 'invalid', status: 404, detail: t('error.noSuchApp', { app: appId }) };
  }
  if (!redirectUrisOf(app).includes(redirectUri)) {
    return {
      kind: 'invalid',
      status: 400,
      detail: t('error.unregisteredRedirect', { uri: redirectUri, app: app.name }),
    };
  }
  if (app.status === 'banned') {
    return {
      kind: 'invalid',
      status: 403,
      detail: t('error.appBanned', { app: app.name }),
    };
  }
  return {
    kind: 'valid',
    request: { app, openid, redirectUri, state },
  };
};
