import { html, type SafeHtml } from '../html.js';
import { layout } from '../layout.js';
import { SYSTEM_APP_ID } from '../../../domain/app/systemApp.js';

/** The inbox shell; /static/inbox.js fills it from `GET /v1/me/inbox` and keeps it current. */
export const inboxPage = (person: { readonly username: string }): SafeHtml =>
  layout({
    title: 'Inbox',
    person,
    current: 'inbox',
    scripts: ['inbox.js'],
    main: html`<div class="page-head">
        <h1>Inbox</h1>
        <p id="inbox-summary" class="meta" aria-live="polite"></p>
      </div>
      <div class="toolbar">
        <label for="app-filter">Show</label>
        <select id="app-filter">
          <option value="">All apps</option>
        </select>
      </div>
      <p id="inbox-loading" class="meta">Loading…</p>
      <div id="inbox-empty" class="empty" hidden>
        <h2>Nothing here yet</h2>
        <p>When an app you allowed sends you something, it shows up here within seconds.</p>
      </div>
      <ul id="inbox-list" class="entries" data-built-in-app="${SYSTEM_APP_ID}"></ul>
      <div class="more">
        <button type="button" id="load-older" hidden>Load older messages</button>
      </div>
      <dialog id="complain-dialog" class="dialog" aria-labelledby="complain-title">
        <form id="complain-form" method="dialog">
          <h2 id="complain-title">Complain about a message</h2>
          <p id="complain-about" class="meta"></p>
          <fieldset>
            <legend>What is wrong with it?</legend>
            <label class="choice"
              ><input type="radio" name="category" value="spam" checked /> Spam</label
            >
            <label class="choice"
              ><input type="radio" name="category" value="fraud" /> Fraud or phishing</label
            >
            <label class="choice"
              ><input type="radio" name="category" value="abuse" /> Abuse or harassment</label
            >
            <label class="choice"><input type="radio" name="category" value="other" /> Other</label>
          </fieldset>
          <div class="field">
            <label for="complain-reason">Reason</label>
            <textarea
              id="complain-reason"
              name="reason"
              required
              maxlength="1000"
              rows="3"
              aria-describedby="complain-hint"
            ></textarea>
            <p id="complain-hint" class="hint">
              An operator reads this. The message leaves your inbox.
            </p>
          </div>
          <p id="complain-error" class="error" role="alert" hidden></p>
          <div class="actions">
            <button type="submit" value="send" class="danger">Send complaint</button>
            <button type="button" id="complain-cancel">Cancel</button>
          </div>
        </form>
      </dialog>`,
  });
