import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from '../layout.js';
import { SYSTEM_APP_ID } from '../../../domain/app/systemApp.js';

/** The inbox shell; /static/inbox.js fills it from `GET /v1/me/inbox` and keeps it current. */
export const inboxPage = (page: PageContext, person: { readonly username: string }): SafeHtml => {
  const { t } = page.text;
  return layout({
    ...page,
    title: t('inbox.title'),
    person,
    current: 'inbox',
    scripts: ['inbox.js'],
    main: html`<div class="page-head">
        <h1>${t('inbox.title')}</h1>
        <p id="inbox-summary" class="meta" aria-live="polite"></p>
      </div>
      <div class="toolbar">
        <label for="app-filter">${t('inbox.show')}</label>
        <select id="app-filter">
          <option value="">${t('inbox.allApps')}</option>
        </select>
      </div>
      <p id="inbox-loading" class="meta">${t('common.loading')}</p>
      <div id="inbox-empty" class="empty" hidden>
        <h2>${t('inbox.emptyTitle')}</h2>
        <p>${t('inbox.emptyText')}</p>
      </div>
      <ul id="inbox-list" class="entries" data-built-in-app="${SYSTEM_APP_ID}"></ul>
      <div class="more">
        <button type="button" id="load-older" hidden>${t('inbox.loadOlder')}</button>
      </div>
      <dialog id="complain-dialog" class="dialog" aria-labelledby="complain-title">
        <form id="complain-form" method="dialog">
          <h2 id="complain-title">${t('inbox.complainTitle')}</h2>
          <p id="complain-about" class="meta"></p>
          <fieldset>
            <legend>${t('inbox.whatIsWrong')}</legend>
            <label class="choice"
              ><input type="radio" name="category" value="spam" checked /> ${t('inbox.spam')}</label
            >
            <label class="choice"
              ><input type="radio" name="category" value="fraud" /> ${t('inbox.fraud')}</label
            >
            <label class="choice"
              ><input type="radio" name="category" value="abuse" /> ${t('inbox.abuse')}</label
            >
            <label class="choice"
              ><input type="radio" name="category" value="other" />
              ${t('inbox.otherCategory')}</label
            >
          </fieldset>
          <div class="field">
            <label for="complain-reason">${t('inbox.reason')}</label>
            <textarea
              id="complain-reason"
              name="reason"
              required
              maxlength="1000"
              rows="3"
              aria-describedby="complain-hint"
            ></textarea>
            <p id="complain-hint" class="hint">${t('inbox.reasonHint')}</p>
          </div>
          <p id="complain-error" class="error" role="alert" hidden></p>
          <div class="actions">
            <button type="submit" value="send" class="danger">${t('inbox.sendComplaint')}</button>
            <button type="button" id="complain-cancel">${t('common.cancel')}</button>
          </div>
        </form>
      </dialog>`,
  });
};
