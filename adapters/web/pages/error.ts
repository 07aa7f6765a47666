import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from '../layout.js';

/** A page that explains why a request cannot go on; it never redirects anywhere. */
export const errorPage = (
  page: PageContext,
  heading: string,
  detail: string,
  person?: { readonly username: string },
): SafeHtml => {
  const { t } = page.text;
  return layout({
    ...page,
    title: heading,
    person,
    main: html`<section class="narrow card" aria-labelledby="error-title">
      <h1 id="error-title">${heading}</h1>
      <p class="error-detail">${detail}</p>
      <p>${t('error.nothingChanged')}</p>
      <p><a href="${person === undefined ? '/login' : '/inbox'}">${t('error.goHome')}</a></p>
    </section>`,
  });
};
