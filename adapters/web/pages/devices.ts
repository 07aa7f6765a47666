import { html, type SafeHtml } from '../html.js';
import { layout } from '../layout.js';

/** "My devices": the Bark device and a test push through the real pipeline. */
export const devicesPage = (person: { readonly username: string }): SafeHtml =>
  layout({
    title: 'My devices',
    person,
    current: 'devices',
    scripts: ['devices.js'],
    main: html`<div class="page-head">
        <h1>My devices</h1>
        <p class="meta">Where messages from apps you set to <em>strong</em> are pushed.</p>
      </div>
      <section class="card" aria-labelledby="bark-title">
        <h2 id="bark-title">Bark (iPhone)</h2>
        <p id="bark-current" class="meta">Loading…</p>
        <form id="bark-form">
          <div class="field">
            <label for="bark-server">Bark server URL</label>
            <input
              id="bark-server"
              name="serverUrl"
              type="url"
              required
              maxlength="2048"
              placeholder="https://api.day.app"
              autocomplete="url"
              spellcheck="false"
            />
          </div>
          <div class="field">
            <label for="bark-key">Device key</label>
            <input
              id="bark-key"
              name="deviceKey"
              required
              maxlength="128"
              pattern="[A-Za-z0-9_\\-]+"
              autocomplete="off"
              autocapitalize="none"
              spellcheck="false"
              aria-describedby="bark-key-hint"
            />
            <p id="bark-key-hint" class="hint">
              Shown in the Bark app. Tidings never shows it again once saved.
            </p>
          </div>
          <p id="bark-error" class="error" role="alert" hidden></p>
          <div class="actions">
            <button type="submit" class="primary">Save device</button>
            <button type="button" id="bark-remove" class="danger" hidden>Remove device</button>
          </div>
        </form>
      </section>
      <section class="card" aria-labelledby="test-title">
        <h2 id="test-title">Test push</h2>
        <p>
          Sends you a message from the built-in <strong>Tidings</strong> app through the same
          moderation, routing and delivery as any app's message. It appears in
          <a href="/apps">My apps</a>, where you can turn it down like any other.
        </p>
        <button type="button" id="test-push" class="primary" disabled>Send me a test push</button>
        <p id="test-result" class="result" role="status" aria-live="polite"></p>
      </section>`,
  });
