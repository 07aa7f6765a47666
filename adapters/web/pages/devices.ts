import { html, type SafeHtml } from '../html.js';
import { layout } from '../layout.js';

/**
 * "My devices": every device of the person, of any channel kind, and a form to add one. The
 * page holds no channel's fields: `devices.js` draws each form from the settings the channel
 * declares (`GET /v1/channels`), so a plugin's kind gets a form without code here.
 */
export const devicesPage = (person: { readonly username: string }): SafeHtml =>
  layout({
    title: 'My devices',
    person,
    current: 'devices',
    scripts: ['devices.js'],
    main: html`<div class="page-head">
        <h1>My devices</h1>
        <p class="meta">
          Where messages from apps you set to <em>strong</em> are pushed: every healthy device below
          gets each one. Everything also reaches your <a href="/inbox">inbox</a>.
        </p>
      </div>
      <section class="panel" aria-labelledby="devices-title">
        <h2 id="devices-title">Your devices</h2>
        <p id="devices-status" class="meta" role="status" tabindex="-1">Loading…</p>
        <ul id="devices-list" class="cards devices"></ul>
      </section>
      <section class="card" aria-labelledby="add-title">
        <h2 id="add-title">Add a device</h2>
        <form id="add-form">
          <div class="field">
            <label for="add-kind">Kind</label>
            <select id="add-kind" name="kind" required aria-describedby="add-kind-hint">
              <option value="">Loading…</option>
            </select>
            <p id="add-kind-hint" class="hint">How Tidings reaches this device.</p>
          </div>
          <div id="add-fields"></div>
          <p id="add-error" class="error" role="alert" hidden></p>
          <div class="actions">
            <button type="submit" class="primary">Add device</button>
          </div>
        </form>
        <div
          id="add-secret"
          class="secret-once"
          role="region"
          aria-labelledby="add-secret-title"
          tabindex="-1"
          hidden
        >
          <h3 id="add-secret-title">Copy this secret now</h3>
          <p id="add-secret-what"></p>
          <code id="add-secret-value" class="mono secret-value"></code>
          <p class="hint">
            Tidings shows it only this once and cannot show it again. Put it in the service that
            receives this device's messages; to get a new one, remove the device and add it again.
          </p>
          <div class="actions">
            <button type="button" id="add-secret-copy">Copy the secret</button>
          </div>
        </div>
      </section>`,
  });
