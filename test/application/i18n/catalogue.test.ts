import { expect } from 'chai';
import {
  catalogues,
  placeholdersOf,
  splitTemplate,
  translate,
  translateCount,
} from '../../../application/i18n/catalogue.js';
import { LOCALES } from '../../../domain/recipient/recipientPreferences.js';

const sorted = (values: Iterable<string>): string[] => [...values].sort();

describe('i18n catalogues (application/i18n)', () => {
  const en = catalogues.en;
  const zh = catalogues['zh-CN'];

  it('has one catalogue per locale', () => {
    expect(sorted(Object.keys(catalogues))).to.deep.equal(sorted(LOCALES));
  });

  it('gives every language exactly the same keys', () => {
    for (const locale of LOCALES) {
      expect(sorted(Object.keys(catalogues[locale])), locale).to.deep.equal(
        sorted(Object.keys(en)),
      );
    }
  });

  it('has no empty (or blank) string in any language', () => {
    for (const locale of LOCALES) {
      const blank = Object.entries(catalogues[locale])
        .filter(([, text]) => text.trim() === '')
        .map(([key]) => key);
      expect(blank, locale).to.deep.equal([]);
    }
  });

  it('uses the same placeholders for a key in every language', () => {
    const differing = Object.keys(en).flatMap((key) => {
      const wanted = sorted(placeholdersOf(en[key as keyof typeof en]));
      return LOCALES.flatMap((locale) => {
        const got = sorted(placeholdersOf(catalogues[locale][key as keyof typeof en]));
        return JSON.stringify(got) === JSON.stringify(wanted)
          ? []
          : [`${locale} ${key}: ${got.join(',')} ≠ ${wanted.join(',')}`];
      });
    });
    expect(differing).to.deep.equal([]);
  });

  it('has both plural forms wherever a key has one', () => {
    const keys = Object.keys(en);
    const bases = keys.filter((key) => key.endsWith('.other')).map((key) => key.slice(0, -6));
    const ones = keys.filter((key) => key.endsWith('.one')).map((key) => key.slice(0, -4));
    expect(sorted(ones)).to.deep.equal(sorted(bases));
  });

  it('is really translated: Chinese text where English has words, never the English itself', () => {
    // Names of languages and the brand read the same in both; everything else differs.
    const same = Object.keys(en).filter(
      (key) =>
        zh[key as keyof typeof en] === en[key as keyof typeof en] &&
        !key.startsWith('lang.') &&
        !['layout.brand', 'layout.titleSuffix'].includes(key),
    );
    expect(same).to.deep.equal([]);
    const withoutChinese = Object.entries(zh)
      .filter(([key]) => !key.startsWith('lang.') && key !== 'layout.brand')
      // A separator is punctuation only.
      .filter(([key]) => !['layout.titleSuffix', 'error.listSeparator'].includes(key))
      .filter(([, text]) => !/\p{Script=Han}/u.test(text))
      .map(([key]) => key);
    expect(withoutChinese).to.deep.equal([]);
  });

  it('fills placeholders, and leaves one without a value as written', () => {
    expect(translate('en', 'apps.unbound', { app: 'Shop' })).to.equal('Shop unbound');
    expect(translate('zh-CN', 'apps.unbound', { app: '商店' })).to.equal('已解除绑定 商店');
    expect(translate('en', 'apps.unbound')).to.equal('{app} unbound');
    expect(splitTemplate('a {x} b {y}', (name) => (name === 'x' ? 1 : undefined))).to.deep.equal([
      'a ',
      1,
      ' b {y}',
    ]);
  });

  it('picks the plural form by Intl.PluralRules (English one/other, Chinese other)', () => {
    expect(translateCount('en', 'inbox.newMessages', 1)).to.equal('1 new message');
    expect(translateCount('en', 'inbox.newMessages', 3)).to.equal('3 new messages');
    expect(translateCount('zh-CN', 'inbox.newMessages', 3)).to.equal('3 条新消息');
    expect(translateCount('en', 'inbox.summary', 2, { unread: 5 })).to.equal(
      '5 unread · 2 conversations',
    );
  });
});
