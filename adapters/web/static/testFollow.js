// @ts-check
// Follows one device's test push (GET /v1/me/test-push/:messageId) until its delivery to that
// device is done, so the person learns whether it arrived rather than only that it was sent.
import { api, t } from './common.js';

/**
 * Where a test push ended: `delivered`, `failed` (the channel refused it for good, or gave up), `suppressed`/`rejected`/`held` (it never reached delivery), `inbox` (routed to the
 * inbox only), or `pending` when it had not settled in time.
 *
 * @typedef {{ outcome: string, text: string }} TestOutcome
 */

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @param {string} messageId
 * @param {string} deviceId
 * @param {(text: string) => void} progress says how it is going while it is not done
 * @returns {Promise<TestOutcome>}
 */
export const followTestPush = async (messageId, deviceId, progress) => {
  for (let attempt = 0; attempt < 30; attempt += 1) {
    const status = await api('GET', `/v1/me/test-push/${encodeURIComponent(messageId)}`);
    /** @type {{ deviceId?: string, status: string, attempts: number, lastError?: string }[]} */
    const deliveries = status.deliveries;
    const mine = deliveries.find((delivery) => delivery.deviceId === deviceId);
    if (mine?.status === 'delivered') {
      return { outcome: 'delivered', text: t('testFollow.delivered') };
    }
    // `failed` is a refusal for good (a transient failure stays `pending` with a retry time).
    if (mine?.status === 'failed' || mine?.status === 'abandoned') {
      return {
        outcome: 'failed',
        text: t('testFollow.failed', { reason: mine.lastError ?? t('testFollow.noReason') }),
      };
    }
    if (['suppressed', 'rejected', 'held'].includes(status.status)) {
      return {
        outcome: status.status,
        text: t('testFollow.notDelivered', { status: t(`testFollow.status.${status.status}`) }),
      };
    }
    if (mine === undefined && deliveries.length > 0) {
      return {
        outcome: 'inbox',
        text: t('testFollow.inboxOnly'),
      };
    }
    progress(
      mine === undefined
        ? t('testFollow.onItsWay')
        : t('testFollow.trying', { attempt: mine.attempts }),
    );
    await sleep(1000);
  }
  return { outcome: 'pending', text: t('testFollow.stillTrying') };
};
