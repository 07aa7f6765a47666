import { expect } from 'chai';
import { escapeHtml, html } from '../../../adapters/web/html.js';
import { localPath } from '../../../adapters/web/navigation.js';

describe('web: HTML templates', () => {
  it('escapes every character that could end text or an attribute', () => {
    expect(escapeHtml(`<script>alert("x")</script> & 'y' \`z\``)).to.equal(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39; &#96;z&#96;',
    );
  });

  it('escapes interpolated values, keeps nested templates and joins lists', () => {
    const title = '<img src=x onerror=alert(1)>';
    const inner = html`<b>${title}</b>`;
    // prettier-ignore
    const page = html`<p title="${'"quoted"'}">${inner}${[html`<i>1</i>`, '<2>']}${undefined}${null}${false}${3}</p>`;
    expect(page.text).to.equal(
      '<p title="&quot;quoted&quot;"><b>&lt;img src=x onerror=alert(1)&gt;</b><i>1</i>&lt;2&gt;3</p>',
    );
  });

  it('does not take a look-alike object for safe markup', () => {
    const forged = { text: '<script>', ['Symbol(SafeHtml)']: true } as unknown as string;
    expect(html`${forged}`.text).to.not.contain('<script>');
  });
});

describe('web: local redirect targets after logging in', () => {
  it('keeps paths on this site, with their query', () => {
    expect(localPath('/apps')).to.equal('/apps');
    expect(
      localPath('/authorize?app_id=a&openid=b&redirect_uri=https%3A%2F%2Fx.example%2F'),
    ).to.equal('/authorize?app_id=a&openid=b&redirect_uri=https%3A%2F%2Fx.example%2F');
  });

  it('refuses anything that could leave the site', () => {
    for (const next of [
      undefined,
      '',
      'https://evil.example/',
      '//evil.example/',
      '/\\evil.example',
      '\\\\evil.example',
      '/\t/evil.example',
      // Dot segments that the URL parse resolves into `//host`.
      '/.//evil.example',
      '/%2e%2e//evil.example',
      '/a/..//evil.example',
      'javascript:alert(1)',
      ['/apps'],
      `/${'a'.repeat(5000)}`,
    ]) {
      expect(localPath(next), JSON.stringify(next)).to.equal('/inbox');
    }
  });
});
