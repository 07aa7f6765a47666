import { html, type SafeHtml } from '../html.js';
import { layout } from '../layout.js';

/** The log in and register pages: one form each, posted by /static/auth.js. */
export const authPage = (mode: 'login' | 'register', next: string): SafeHtml => {
  const login = mode === 'login';
  const other = `${login ? '/register' : '/login'}?next=${encodeURIComponent(next)}`;
  return layout({
    title: login ? 'Log in' : 'Create an account',
    scripts: ['auth.js'],
    main: html`<section class="narrow card" aria-labelledby="auth-title">
      <h1 id="auth-title">${login ? 'Log in' : 'Create an account'}</h1>
      <p class="lead">
        ${
          login
            ? 'Your inbox, the apps you allowed and your devices, in one place.'
            : 'One account for every app that sends you messages through Tidings.'
        }
      </p>
      <form id="auth-form" data-mode="${mode}" data-next="${next}">
        <div class="field">
          <label for="username">Username</label>
          <input
            id="username"
            name="username"
            required
            minlength="3"
            maxlength="32"
            autocomplete="username"
            autocapitalize="none"
            spellcheck="false"
            aria-describedby="username-hint"
          />
          <p class="hint" id="username-hint">
            ${login ? 'The name you registered with.' : '3–32 letters (any script), digits, _ . -'}
          </p>
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            required
            minlength="8"
            maxlength="256"
            autocomplete="${login ? 'current-password' : 'new-password'}"
            aria-describedby="password-hint"
          />
          <p class="hint" id="password-hint">At least 8 characters.</p>
        </div>
        <p id="form-error" class="error" role="alert" hidden></p>
        <button type="submit" class="primary">${login ? 'Log in' : 'Create account'}</button>
      </form>
      <p class="switch">
        ${login ? 'New here?' : 'Have an account?'}
        <a href="${other}">${login ? 'Create an account' : 'Log in'}</a>
      </p>
    </section>`,
  });
};
