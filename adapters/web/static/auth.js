// @ts-check
// Log in and register: posts the form as JSON, then goes where the server said (`data-next`,
// which the server already checked is a path on this site).
import { api, reason, showError } from './common.js';

const form = /** @type {HTMLFormElement} */ (document.getElementById('auth-form'));
const error = document.getElementById('form-error');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!form.reportValidity()) return;
  const data = new FormData(form);
  const mode = form.dataset['mode'] === 'register' ? 'register' : 'login';
  const button = form.querySelector('button[type="submit"]');
  if (button instanceof HTMLButtonElement) button.disabled = true;
  showError(error, '');
  try {
    await api(
      'POST',
      `/v1/auth/${mode}`,
      {
        username: String(data.get('username') ?? ''),
        password: String(data.get('password') ?? ''),
      },
      { quietUnauthorized: true },
    );
    const next = form.dataset['next'] ?? '/inbox';
    location.assign(next.startsWith('/') && !next.startsWith('//') ? next : '/inbox');
  } catch (failure) {
    showError(error, reason(failure));
    if (button instanceof HTMLButtonElement) button.disabled = false;
    document.getElementById('password')?.focus();
  }
});
