import { expect } from 'chai';
import { denylistPolicy } from '../../../domain/moderation/denylistPolicy.js';
import { characterCount, limitsPolicy } from '../../../domain/moderation/limitsPolicy.js';
import type { ModerationInput } from '../../../domain/moderation/policy.js';

const message = (fields: Partial<ModerationInput> = {}): ModerationInput => ({
  messageId: 'm-1',
  appId: 'app-1',
  body: '您的工单已派发，师傅预计 14:00 到达。',
  ...fields,
});

describe('denylist policy', () => {
  const policy = denylistPolicy(['刷单', 'Free Bitcoin', '代开发票']);

  it('is named denylist and passes a clean message', () => {
    expect(policy.name).to.equal('denylist');
    expect(
      policy.check(message({ title: 'Order 42', url: 'https://example.com/o/42' })),
    ).to.deep.equal({ kind: 'pass' });
  });

  it('rejects a denied term in the body, naming the term as listed', () => {
    expect(policy.check(message({ body: '在家兼职刷单，日结' }))).to.deep.equal({
      kind: 'reject',
      reason: 'contains a denied term: 刷单',
    });
    expect(policy.check(message({ body: 'get FREE BITCOIN today' }))).to.deep.equal({
      kind: 'reject',
      reason: 'contains a denied term: Free Bitcoin',
    });
  });

  it('checks the title, the subtitle and the url too', () => {
    expect(policy.check(message({ title: '代开发票' })).kind).to.equal('reject');
    expect(policy.check(message({ subtitle: 'ｆｒｅｅ ｂｉｔｃｏｉｎ' })).kind).to.equal('reject');
    expect(
      policy.check(message({ url: 'https://example.com/free%20bitcoin/free bitcoin' })).kind,
    ).to.equal('reject');
  });

  it('does not match a term split across two fields', () => {
    expect(policy.check(message({ title: 'free', body: 'bitcoin' }))).to.deep.equal({
      kind: 'pass',
    });
  });

  it('passes everything with an empty list', () => {
    expect(denylistPolicy([]).check(message({ body: '刷单' }))).to.deep.equal({ kind: 'pass' });
  });
});

describe('limits policy', () => {
  const policy = limitsPolicy();
  const verdict = (fields: Partial<ModerationInput>) => policy.check(message(fields));

  it('is named limits and passes a message within the limits', () => {
    expect(policy.name).to.equal('limits');
    expect(
      verdict({
        title: 't'.repeat(256),
        subtitle: 's'.repeat(256),
        body: 'line one\n\tline two '.padEnd(4000, 'x'),
        url: 'https://example.com/orders/42?step=arrived',
      }),
    ).to.deep.equal({ kind: 'pass' });
  });

  it('limits the title and subtitle to 256 characters', () => {
    expect(verdict({ title: 't'.repeat(257) })).to.deep.equal({
      kind: 'reject',
      reason: 'title is too long: 257 characters, the limit is 256',
    });
    expect(verdict({ subtitle: '字'.repeat(257) })).to.deep.equal({
      kind: 'reject',
      reason: 'subtitle is too long: 257 characters, the limit is 256',
    });
  });

  it('limits the body to 4,000 characters, counting code points', () => {
    expect(verdict({ body: '😀'.repeat(4000) })).to.deep.equal({ kind: 'pass' });
    expect(verdict({ body: '😀'.repeat(4001) })).to.deep.equal({
      kind: 'reject',
      reason: 'body is too long: 4001 characters, the limit is 4000',
    });
    expect(characterCount('a😀字')).to.equal(3);
  });

  it('refuses control characters other than line feed and tab', () => {
    expect(verdict({ body: 'ring\u0007' })).to.deep.equal({
      kind: 'reject',
      reason: 'body contains a control character (U+0007)',
    });
    expect(verdict({ title: 'a\u0000b' }).kind).to.equal('reject');
    expect(verdict({ subtitle: 'a\rb' }).kind).to.equal('reject');
    expect(verdict({ body: 'a\u009bb' }).kind).to.equal('reject');
    expect(verdict({ body: 'a\nb\tc' })).to.deep.equal({ kind: 'pass' });
  });

  it('allows http and https links only', () => {
    expect(verdict({ url: 'http://example.com/' })).to.deep.equal({ kind: 'pass' });
    expect(verdict({ url: 'HTTPS://example.com/' })).to.deep.equal({ kind: 'pass' });
    expect(verdict({ url: 'javascript:alert(1)' })).to.deep.equal({
      kind: 'reject',
      reason: 'url scheme "javascript" is not allowed (allowed: http, https)',
    });
    for (const url of ['data:text/html,hi', 'file:///etc/passwd', 'ftp://example.com/x']) {
      expect(verdict({ url }).kind, url).to.equal('reject');
    }
  });

  it('refuses a url that does not parse, or hides control characters or spaces', () => {
    expect(verdict({ url: 'not a url' }).kind).to.equal('reject');
    expect(verdict({ url: '/relative/path' })).to.deep.equal({
      kind: 'reject',
      reason: 'url is not a valid absolute URL',
    });
    expect(verdict({ url: 'java\nscript:alert(1)' })).to.deep.equal({
      kind: 'reject',
      reason: 'url contains a control character or white space (U+000A)',
    });
  });

  it('takes other limits', () => {
    const strict = limitsPolicy({ maxBody: 5, urlSchemes: ['https'] });
    expect(strict.check(message({ body: '123456' })).kind).to.equal('reject');
    expect(strict.check(message({ body: '12345', url: 'http://example.com' })).kind).to.equal(
      'reject',
    );
  });
});
