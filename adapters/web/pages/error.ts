import { html, type SafeHtml } from '../html.js';
import { layout } from '../layout.js';

/** A page that explains why a request cannot go on; it never redirects anywhere. */
export const errorPage = (
  heading: string,
  detail: string,
  person?: { readonly username: string },
): SafeHtml =>
  layout({
    title: heading,
    person,
    main: html`<section class="narrow card" aria-labelledby="error-title">
      <h1 id="error-title">${heading}</h1>
      <p class="error-detail">${detail}</p>
      <p>Nothing was changed and you were not sent anywhere.</p>
      <p><a href="${person === undefined ? '/login' : '/inbox'}">Go to Tidings</a></p>
    </section>`,
  });
