import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from '../layout.js';

/** The log in and register pages: one form each, posted by /static/auth.js. */
export const authPage = (page: PageContext, mode: 'login' | 'register', next: string): SafeHtml => {
  const { t } = page.text;
  const login = mode === 'login';
  const other = `${login ? '/register' : '/login'}?next=${encodeURIComponent(next)}`;
  const title = login ? t('auth.loginTitle') : t('auth.registerTitle');
  return layout({
    ...page,
    title,
    scripts: ['auth.js'],
    main: html`<section class="narrow card" aria-labelledby="auth-title">
      <h1 id="auth-title">${title}</h1>
      <p class="lead">${login ? t('auth.loginLead') : t('auth.registerLead')}</p>
      <form id="auth-form" data-mode="${mode}" data-next="${next}">
        <div class="field">
          <label for="username">${t('auth.username')}</label>
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
            ${login ? t('auth.usernameHintLogin') : t('auth.usernameHintRegister')}
          </p>
        </div>
        <div class="field">
          <label for="password">${t('auth.password')}</label>
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
          <p class="hint" id="password-hint">${t('auth.passwordHint')}</p>
        </div>
        <p id="form-error" class="error" role="alert" hidden></p>
        <button type="submit" class="primary">
          ${login ? t('auth.submitLogin') : t('auth.submitRegister')}
        </button>
      </form>
      <p class="switch">
        ${login ? t('auth.newHere') : t('auth.haveAccount')}
        <a href="${other}">${login ? t('auth.toRegister') : t('auth.toLogin')}</a>
      </p>
    </section>`,
  });
};
