import { domainError, type DomainError } from '../shared/domainError.js';

/**
 * The built-in app "Tidings" that test pushes (docs/api.md `POST /v1/me/test-push`) and daily
 * digests (docs/api.md "Preferences") come from. It is
 * an ordinary app in the log, registered on first use with a secret nobody is ever told, so a test
 * push takes exactly the path of any app's message: binding, moderation, routing by the person's
 * level, mute and block, push budget, delivery with retries. The person sees it in "My apps" and
 * can turn it down like any other. It binds each person itself, with their recipient id as the
 * openid; nobody consents to it through the consent flow.
 *
 * Because it reaches everyone who ever sent themselves a test push, at level strong, under
 * Tidings' own name, nobody may act as it or change it: no app credential authenticates as it
 * (not even one an older server let an operator rotate), its secret and redirect URIs are not
 * changed, and it has no reputation to lose, since complaints and penalties against it would let
 * a few accounts switch test pushes off for everyone. People turn it down themselves instead.
 *
 * The id is `derivedId('app_', 'tidings-system')` of the security adapter, written out here
 * because the domain hashes nothing itself; a test holds the two together, since data folders
 * already hold the app under this id.
 */
export const SYSTEM_APP_ID = 'app_6ZAUctya4ZJ1PwVJW5nnnf';

/** The name people see the built-in app under. */
export const SYSTEM_APP_NAME = 'Tidings';

/** Whether an app is the built-in app of test pushes and digests. */
export const isSystemApp = (appId: string): boolean => appId === SYSTEM_APP_ID;

/** The refusal of anything the built-in app does not allow: 403 `forbidden` at the edge. */
export const forbiddenForSystemApp = (reason: string): DomainError =>
  domainError(
    'forbidden',
    `the built-in app ${SYSTEM_APP_NAME} sends only the test pushes and digests people ask for; ${reason}`,
    { appId: SYSTEM_APP_ID },
  );
