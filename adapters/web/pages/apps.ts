import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from '../layout.js';

/** "My apps"; /static/apps.js lists `GET /v1/me/apps` and sends each change as a PATCH. */
export const appsPage = (page: PageContext, person: { readonly username: string }): SafeHtml => {
  const { t } = page.text;
  return layout({
    ...page,
    title: t('apps.title'),
    person,
    current: 'apps',
    scripts: ['apps.js'],
    main: html`<div class="page-head">
        <h1>${t('apps.title')}</h1>
        <p class="meta">${t('apps.lead')}</p>
      </div>
      <p id="apps-loading" class="meta">${t('common.loading')}</p>
      <div id="apps-empty" class="empty" hidden>
        <h2>${t('apps.emptyTitle')}</h2>
        <p>${t('apps.emptyText')}</p>
      </div>
      <ul id="apps-list" class="cards"></ul>`,
  });
};
