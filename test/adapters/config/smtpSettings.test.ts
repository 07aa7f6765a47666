import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { loadSettings } from '../../../adapters/config/settings.js';
import { parseMailFrom, parseSmtpUrl } from '../../../adapters/config/smtpSettings.js';

const right = <A>(either: E.Either<string, A>): A => {
  if (E.isLeft(either)) expect.fail(`expected a value, got: ${either.left}`);
  return either.right;
};

const left = <A>(either: E.Either<string, A>): string => {
  if (E.isRight(either)) expect.fail(`expected a refusal, got ${JSON.stringify(either.right)}`);
  return either.left;
};

describe('SMTP settings', () => {
  describe('TIDINGS_SMTP_URL', () => {
    it('takes smtp:// with credentials: port 587 and STARTTLS required', () => {
      expect(right(parseSmtpUrl('smtp://mailer:s3cret@mail.example.com'))).to.deep.equal({
        secure: false,
        host: 'mail.example.com',
        port: 587,
        auth: { user: 'mailer', pass: 's3cret' },
        requireTLS: true,
      });
    });

    it('takes smtps:// as implicit TLS on port 465', () => {
      expect(right(parseSmtpUrl('smtps://u:p@mail.example.com'))).to.include({
        secure: true,
        port: 465,
        requireTLS: false,
      });
    });

    it('uses STARTTLS only when offered without credentials, unless told otherwise', () => {
      expect(right(parseSmtpUrl('smtp://127.0.0.1:25'))).to.deep.equal({
        secure: false,
        host: '127.0.0.1',
        port: 25,
        requireTLS: false,
      });
      expect(right(parseSmtpUrl('smtp://relay.lan?requireTLS=true')).requireTLS).to.equal(true);
      expect(right(parseSmtpUrl('smtp://u:p@relay.lan?requireTLS=false')).requireTLS).to.equal(
        false,
      );
    });

    it('percent-decodes the user name and password', () => {
      expect(
        right(parseSmtpUrl('smtp://me%40example.com:p%40ss%3Aw%2Frd@mail.example.com')).auth,
      ).to.deep.equal({
        user: 'me@example.com',
        pass: 'p@ss:w/rd',
      });
    });

    it('takes an IPv6 address', () => {
      expect(right(parseSmtpUrl('smtp://[::1]:2525')).host).to.equal('::1');
    });

    it('refuses other schemes, paths, options and malformed parts, never quoting the password', () => {
      const cases: [string, RegExp][] = [
        ['http://u:hunter22@mail.example.com', /smtp:\/\/ or smtps:\/\/, got http:/],
        ['mail.example.com', /must be a URL/],
        ['smtp://u:hunter22@mail.example.com/inbox', /path/],
        [
          'smtp://u:hunter22@mail.example.com?tls.rejectUnauthorized=false',
          /unknown option "tls.rejectUnauthorized"/,
        ],
        ['smtp://u:hunter22@mail.example.com?logger=true', /unknown option "logger"/],
        ['smtp://u:hunter22@mail.example.com?requireTLS=yes', /true or false/],
        ['smtps://u:hunter22@mail.example.com?requireTLS=true', /smtps/],
        ['smtp://:hunter22@mail.example.com', /no user name/],
        ['smtp://u:hunter22%zz@mail.example.com', /percent-encoding/],
        ['smtp://u:hunter22@mail.example.com:0', /port 0/],
      ];
      for (const [raw, reason] of cases) {
        const refusal = left(parseSmtpUrl(raw));
        expect(refusal, raw).to.match(reason);
        expect(refusal).to.not.include('hunter22');
      }
    });
  });

  describe('TIDINGS_SMTP_FROM', () => {
    it('takes a bare address or one with a display name, quoted or not', () => {
      expect(right(parseMailFrom('tidings@example.com'))).to.deep.equal({
        address: 'tidings@example.com',
      });
      expect(right(parseMailFrom('Tidings Hub <tidings@example.com>'))).to.deep.equal({
        address: 'tidings@example.com',
        name: 'Tidings Hub',
      });
      expect(right(parseMailFrom('"通知中心" <noreply@example.com>'))).to.deep.equal({
        address: 'noreply@example.com',
        name: '通知中心',
      });
    });

    it('refuses what is not one plain address, or a name that could break the header', () => {
      for (const raw of [
        'tidings',
        'a@b',
        'a@x.example, b@x.example',
        'x <a@x.example> y',
        'Bad "name" <a@x.example>',
        '<a@x.example\r\nBcc: b@y.example>',
      ]) {
        expect(E.isLeft(parseMailFrom(raw)), raw).to.equal(true);
      }
    });
  });

  describe('in loadSettings', () => {
    it('has no smtp without either setting', () => {
      expect(right(loadSettings({}))).to.not.have.property('smtp');
    });

    it('enables smtp when both are set', () => {
      const settings = right(
        loadSettings({
          TIDINGS_SMTP_URL: 'smtps://u:p@mail.example.com',
          TIDINGS_SMTP_FROM: 'Tidings <tidings@example.com>',
        }),
      );
      expect(settings.smtp).to.deep.equal({
        server: {
          secure: true,
          host: 'mail.example.com',
          port: 465,
          auth: { user: 'u', pass: 'p' },
          requireTLS: false,
        },
        from: { address: 'tidings@example.com', name: 'Tidings' },
      });
      expect(settings).to.not.have.property('smtpUrl');
      expect(settings).to.not.have.property('smtpFrom');
    });

    it('stops the start with one line naming the one that is missing', () => {
      expect(left(loadSettings({ TIDINGS_SMTP_URL: 'smtp://mail.example.com' }))).to.equal(
        'invalid setting TIDINGS_SMTP_FROM: TIDINGS_SMTP_URL and TIDINGS_SMTP_FROM go together; set both or neither',
      );
      expect(left(loadSettings({ TIDINGS_SMTP_FROM: 'tidings@example.com' }))).to.match(
        /^invalid setting TIDINGS_SMTP_URL: /,
      );
    });

    it('stops the start with one line naming a bad URL scheme, without the password', () => {
      const line = left(
        loadSettings({
          TIDINGS_SMTP_URL: 'imap://u:hunter22@x.example',
          TIDINGS_SMTP_FROM: 'a@x.example',
        }),
      );
      expect(line).to.equal(
        'invalid setting TIDINGS_SMTP_URL: must start with smtp:// or smtps://, got imap://',
      );
    });

    it('names TIDINGS_SMTP_FROM when the sender is bad', () => {
      expect(
        left(loadSettings({ TIDINGS_SMTP_URL: 'smtp://x.example', TIDINGS_SMTP_FROM: 'nobody' })),
      ).to.match(/^invalid setting TIDINGS_SMTP_FROM: must be an address/);
    });
  });
});
