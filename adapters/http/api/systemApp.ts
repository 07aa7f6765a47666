import { derivedId } from '../../security/secrets.js';

/**
 * The built-in app test pushes come from (testPushRoutes.ts). It is an ordinary app in the log
 * (registered on first use, with a secret nobody is ever told), so a test push takes exactly the
 * path of any app's message: binding, moderation, routing by the person's level, mute and block,
 * push budget, Bark delivery with retries. The person sees it in "My apps" and can turn it down
 * like any other. It binds each person itself, with their recipient id as the openid; nobody
 * consents to it through the consent flow.
 */
export const SYSTEM_APP_ID = derivedId('app_', 'tidings-system');
export const SYSTEM_APP_NAME = 'Tidings';
