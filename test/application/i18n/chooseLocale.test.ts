import { expect } from 'chai';
import {
  chooseLocale,
  localeFromAcceptLanguage,
  localeOfTag,
} from '../../../application/i18n/chooseLocale.js';

describe('choosing the language (application/i18n/chooseLocale.ts)', () => {
  it('maps every Chinese tag to zh-CN and every English one to en', () => {
    for (const tag of [
      'zh',
      'zh-CN',
      'zh-Hans',
      'zh-Hans-CN',
      'zh-SG',
      'zh-TW',
      'ZH-hant',
      'zh_CN',
    ])
      expect(localeOfTag(tag), tag).to.equal('zh-CN');
    for (const tag of ['en', 'en-GB', 'en-US']) expect(localeOfTag(tag), tag).to.equal('en');
    for (const tag of ['fr', 'ja', '', 'zhx']) expect(localeOfTag(tag), tag).to.equal(undefined);
  });

  it('ranks Accept-Language by q-value, ties in order, q=0 excluded', () => {
    expect(localeFromAcceptLanguage('zh-CN,zh;q=0.9,en;q=0.8')).to.equal('zh-CN');
    expect(localeFromAcceptLanguage('en-US,en;q=0.9,zh-CN;q=0.8')).to.equal('en');
    expect(localeFromAcceptLanguage('en;q=0.5, zh-Hans;q=0.9')).to.equal('zh-CN');
    expect(localeFromAcceptLanguage('zh;q=0, en')).to.equal('en');
    expect(localeFromAcceptLanguage('fr-FR, de;q=0.9, zh;q=0.1')).to.equal('zh-CN');
    expect(localeFromAcceptLanguage('zh-TW;q=0.7, en;q=0.7')).to.equal('zh-CN');
    expect(localeFromAcceptLanguage('fr, *;q=0.5')).to.equal('en');
  });

  it('finds nothing of ours in a header without our languages, or none at all', () => {
    expect(localeFromAcceptLanguage('fr-FR, de;q=0.9')).to.equal(undefined);
    expect(localeFromAcceptLanguage('')).to.equal(undefined);
    expect(localeFromAcceptLanguage(undefined)).to.equal(undefined);
    expect(localeFromAcceptLanguage('zh;q=bogus')).to.equal('zh-CN');
  });

  it('prefers the saved preference, then the cookie, then Accept-Language, then English', () => {
    const header = 'zh-CN,zh;q=0.9';
    expect(chooseLocale({ preference: 'en', cookie: 'zh-CN', acceptLanguage: header })).to.equal(
      'en',
    );
    expect(chooseLocale({ preference: null, cookie: 'en', acceptLanguage: header })).to.equal('en');
    expect(chooseLocale({ preference: null, cookie: 'xx', acceptLanguage: header })).to.equal(
      'zh-CN',
    );
    expect(chooseLocale({ acceptLanguage: 'de' })).to.equal('en');
    expect(chooseLocale({})).to.equal('en');
  });
});
