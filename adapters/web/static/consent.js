// @ts-check
// The consent decision: POST /v1/me/authorizations, then follow the `redirect` it answers (the
// server built it from a redirect URI the app registered, and never answers one otherwise).
import { api, reason, showError } from './common.js';

const form = /** @type {HTMLFormElement} */ (document.getElementById('consent-form'));
const error = document.getElementById('consent-error');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const submitter = /** @type {SubmitEvent} */ (event).submitter;
  const decision =
    submitter instanceof HTMLButtonElement && submitter.value === 'deny' ? 'deny' : 'allow';
  const level = new FormData(form).get('level') === 'strong' ? 'strong' : 'weak';
  const { appId, openid, redirectUri, state } = form.dataset;
  const buttons = form.querySelectorAll('button');
  buttons.forEach((button) => (button.disabled = true));
  showError(error, '');
  try {
    const answer = await api('POST', '/v1/me/authorizations', {
      appId,
      openid,
      redirectUri,
      decision,
      ...(decision === 'allow' ? { level } : {}),
      ...(state === undefined ? {} : { state }),
    });
    location.assign(answer.redirect);
  } catch (failure) {
    showError(error, reason(failure));
    buttons.forEach((button) => (button.disabled = false));
  }
});
