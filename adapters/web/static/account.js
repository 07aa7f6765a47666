// @ts-check
// My account: deleting the account asks once more (the confirm dialog), then sends the password
// to DELETE /v1/me; once the account is gone the browser goes to the login page, which says so.
// The data export needs no script: its form is a plain GET, which the browser saves as a file.
import { api, ApiError, confirmAction, reason, showError, t } from './common.js';

const form = /** @type {HTMLFormElement} */ (document.getElementById('delete-form'));
const password = /** @type {HTMLInputElement} */ (document.getElementById('delete-password'));
const error = document.getElementById('delete-error');
const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
const label = button.textContent ?? '';

/** The login page, saying the account was deleted (webRouter.ts knows this notice). */
const DELETED = '/login?notice=account-deleted';

/**
 * Whether the session still works. Without `quietUnauthorized` a lost session sends the browser
 * to log in, as on every page; with it, the answer is only reported.
 */
const signedIn = async (/** @type {boolean} */ quiet) => {
  try {
    await api('GET', '/v1/me', undefined, { quietUnauthorized: quiet });
    return true;
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 401) return false;
    throw failure;
  }
};

/** Why the account was not deleted, in words. */
const refusal = async (/** @type {unknown} */ failure) => {
  if (failure instanceof ApiError && failure.status === 401) {
    // Also answered when the session itself ended: then the person logs in again first.
    return (await signedIn(false)) ? t('account.wrongPassword') : '';
  }
  return t('account.notDeleted', { reason: reason(failure) });
};

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!form.reportValidity()) return;
  showError(error, '');
  const sure = await confirmAction(
    t('account.confirmQuestion'),
    t('account.confirmText'),
    t('account.confirmYes'),
  );
  if (!sure) return;
  button.disabled = true;
  button.textContent = t('account.deleting');
  try {
    await api('DELETE', '/v1/me', { password: password.value }, { quietUnauthorized: true });
    location.assign(DELETED);
  } catch (failure) {
    try {
      // A deletion whose erasure took long answers 503, yet it is recorded and the session gone.
      if (failure instanceof ApiError && failure.status === 503 && !(await signedIn(true))) {
        location.assign(DELETED);
        return;
      }
      showError(error, await refusal(failure));
    } catch (again) {
      showError(error, t('account.notDeleted', { reason: reason(again) }));
    }
    button.disabled = false;
    button.textContent = label;
    password.select();
    password.focus();
  }
});
