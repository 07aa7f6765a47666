import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import express from 'express';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { loadSettings, settingNames, type Settings } from '../../../adapters/config/settings.js';

/** Decodes an environment that must be valid, failing the test with the decoder's line otherwise. */
const valid = (env: NodeJS.ProcessEnv): Settings => {
  const decoded = loadSettings(env);
  if (E.isLeft(decoded)) expect.fail(`expected valid settings, got: ${decoded.left}`);
  return decoded.right;
};

/** Decodes an environment that must be invalid and returns the error line. */
const invalid = (env: NodeJS.ProcessEnv): string => {
  const decoded = loadSettings(env);
  if (E.isRight(decoded))
    expect.fail(`expected invalid settings, got ${JSON.stringify(decoded.right)}`);
  return decoded.left;
};

describe('loadSettings', () => {
  describe('defaults', () => {
    it('applies every default to an empty environment', () => {
      const settings = valid({});
      expect(settings.port).to.equal(8080);
      expect(settings.host).to.equal('0.0.0.0');
      expect(settings.dataDir).to.equal('./data');
      expect(settings.publicUrl).to.equal('http://localhost:8080');
      expect(settings.sqliteSynchronous).to.equal('full');
      expect(settings.logLevel).to.equal('info');
      expect(settings.outboundAllowlist).to.deep.equal([]);
      expect(settings.eventStoreConnectionString).to.equal(undefined);
      expect(settings.adminToken).to.equal(undefined);
      expect(settings.auditToken).to.equal(undefined);
      expect(settings.moderationDenylist).to.equal(undefined);
      expect(settings.authFailureBurstPerIp).to.equal(30);
      expect(settings.authFailureBurstPerUsername).to.equal(10);
      expect(settings.registrationBurst).to.equal(20);
      expect(settings.sessionDays).to.equal(30);
      expect(settings.trustProxy).to.equal(false);
      expect(settings.sms).to.equal(undefined);
    });

    it('derives the default public URL from the configured port', () => {
      expect(valid({ PORT: '3000' }).publicUrl).to.equal('http://localhost:3000');
    });

    it('ignores variables it does not know', () => {
      expect(valid({ HOME: '/root', TIDINGS_UNKNOWN: 'x' })).to.deep.equal(valid({}));
    });

    it('lists the name of every variable it reads', () => {
      expect([...settingNames].sort()).to.deep.equal(
        [
          'PORT',
          'TIDINGS_ADMISSION_MAX_LAG_SECONDS',
          'TIDINGS_SUBMISSION_STAGES',
          'TIDINGS_HOST',
          'TIDINGS_DATA_DIR',
          'TIDINGS_DATABASE_URL',
          'TIDINGS_ESDB_DELIVERY_GROUP',
          'TIDINGS_NODE_ID',
          'TIDINGS_PUSH_BUDGET_PER_HOUR',
          'TIDINGS_APP_RATE_BURST',
          'TIDINGS_APP_RATE_PER_SECOND',
          'TIDINGS_AUTH_FAILURE_BURST_PER_IP',
          'TIDINGS_AUTH_FAILURE_BURST_PER_USERNAME',
          'TIDINGS_REGISTRATION_BURST',
          'TIDINGS_SESSION_DAYS',
          'TIDINGS_DELIVERY_MAX_ATTEMPTS',
          'TIDINGS_WECHAT_APPID',
          'TIDINGS_WECHAT_SECRET',
          'TIDINGS_WECHAT_API_BASE',
          'TIDINGS_SMTP_URL',
          'TIDINGS_SMTP_FROM',
          'TIDINGS_PENALTY_POINTS',
          'TIDINGS_SUSPEND_BELOW',
          'TIDINGS_BAN_BELOW',
          'TIDINGS_MAX_SUSPENSIONS',
          'TIDINGS_SUSPENSION_DAYS',
          'TIDINGS_SURGE_COMPLAINANTS',
          'TIDINGS_SURGE_WINDOW_HOURS',
          'EVENTSTORE_CONNECTION_STRING',
          'TIDINGS_ADMIN_TOKEN',
          'TIDINGS_AUDIT_TOKEN',
          'TIDINGS_OUTBOUND_ALLOWLIST',
          'TIDINGS_SMS_GATEWAY_URL',
          'TIDINGS_SMS_GATEWAY_TOKEN',
          'TIDINGS_CHANNEL_PLUGINS',
          'TIDINGS_MODERATION_DENYLIST',
          'TIDINGS_PUBLIC_URL',
          'TIDINGS_LOG_LEVEL',
          'TIDINGS_SQLITE_SYNCHRONOUS',
          'TIDINGS_TRUST_PROXY',
          'TIDINGS_READ_ONLY',
          'TIDINGS_HTTP_HEADERS_TIMEOUT_SECONDS',
          'TIDINGS_HTTP_REQUEST_TIMEOUT_SECONDS',
          'TIDINGS_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS',
          'TIDINGS_HTTP_MAX_CONNECTIONS',
          'TIDINGS_HTTP_MAX_HEADER_BYTES',
        ].sort(),
      );
    });
  });

  describe('empty values count as unset', () => {
    for (const name of settingNames) {
      it(`treats an empty or blank ${name} as unset`, () => {
        expect(valid({ [name]: '' })).to.deep.equal(valid({}));
        expect(valid({ [name]: '   ' })).to.deep.equal(valid({}));
      });
    }
  });

  describe('valid values', () => {
    it('decodes PORT across its whole range, trimming blanks', () => {
      expect(valid({ PORT: '0' }).port).to.equal(0);
      expect(valid({ PORT: '1' }).port).to.equal(1);
      expect(valid({ PORT: '65535' }).port).to.equal(65_535);
      expect(valid({ PORT: ' 9090 ' }).port).to.equal(9090);
    });

    it('decodes TIDINGS_HOST and TIDINGS_DATA_DIR as given', () => {
      const settings = valid({ TIDINGS_HOST: '127.0.0.1', TIDINGS_DATA_DIR: '/var/lib/tidings' });
      expect(settings.host).to.equal('127.0.0.1');
      expect(settings.dataDir).to.equal('/var/lib/tidings');
    });

    it('decodes EVENTSTORE_CONNECTION_STRING in both URL schemes', () => {
      for (const value of [
        'esdb://localhost:2113?tls=false',
        'esdb+discover://cluster.example.com:2113',
      ]) {
        expect(valid({ EVENTSTORE_CONNECTION_STRING: value }).eventStoreConnectionString).to.equal(
          value,
        );
      }
    });

    it('decodes TIDINGS_ESDB_DELIVERY_GROUP beside EventStoreDB, and refuses it without', () => {
      const esdb = 'esdb://localhost:2113?tls=false';
      expect(
        valid({
          EVENTSTORE_CONNECTION_STRING: esdb,
          TIDINGS_ESDB_DELIVERY_GROUP: 'tidings.delivery',
        }).esdbDeliveryGroup,
      ).to.equal('tidings.delivery');
      expect(valid({ EVENTSTORE_CONNECTION_STRING: esdb }).esdbDeliveryGroup).to.equal(undefined);
      const alone = loadSettings({ TIDINGS_ESDB_DELIVERY_GROUP: 'tidings-delivery' });
      expect(E.isLeft(alone) && alone.left).to.match(
        /^invalid setting TIDINGS_ESDB_DELIVERY_GROUP: .*EVENTSTORE_CONNECTION_STRING/,
      );
      const bad = loadSettings({
        EVENTSTORE_CONNECTION_STRING: esdb,
        TIDINGS_ESDB_DELIVERY_GROUP: 'no spaces',
      });
      expect(E.isLeft(bad) && bad.left).to.match(
        /^invalid setting TIDINGS_ESDB_DELIVERY_GROUP: must be/,
      );
    });

    it('decodes operator and auditor tokens of 16 characters or more', () => {
      const settings = valid({
        TIDINGS_ADMIN_TOKEN: '0123456789abcdef',
        TIDINGS_AUDIT_TOKEN: 'a-much-longer-audit-token-value',
      });
      expect(settings.adminToken).to.equal('0123456789abcdef');
      expect(settings.auditToken).to.equal('a-much-longer-audit-token-value');
    });

    it('decodes TIDINGS_OUTBOUND_ALLOWLIST of hosts, addresses and CIDR blocks split by commas or spaces', () => {
      const settings = valid({
        TIDINGS_OUTBOUND_ALLOWLIST:
          'bark.internal, 10.0.0.0/8 192.168.1.10,,fd00::/8  ::1 localhost 0.0.0.0/0',
      });
      expect(settings.outboundAllowlist).to.deep.equal([
        'bark.internal',
        '10.0.0.0/8',
        '192.168.1.10',
        'fd00::/8',
        '::1',
        'localhost',
        '0.0.0.0/0',
      ]);
    });

    it('decodes TIDINGS_CHANNEL_PLUGINS as module specifiers split by commas only, trimmed', () => {
      expect(valid({}).channelPlugins).to.deep.equal([]);
      expect(
        valid({
          TIDINGS_CHANNEL_PLUGINS:
            ' /opt/tidings/my plugins/matrix.mjs, ./line.mjs,,@acme/tidings-line ,',
        }).channelPlugins,
      ).to.deep.equal(['/opt/tidings/my plugins/matrix.mjs', './line.mjs', '@acme/tidings-line']);
    });

    it('refuses TIDINGS_CHANNEL_PLUGINS listing a module twice, naming it', () => {
      expect(invalid({ TIDINGS_CHANNEL_PLUGINS: './a.mjs,./b.mjs, ./a.mjs' })).to.equal(
        'invalid setting TIDINGS_CHANNEL_PLUGINS: lists "./a.mjs" twice',
      );
    });

    it('decodes TIDINGS_MODERATION_DENYLIST as a path', () => {
      expect(
        valid({ TIDINGS_MODERATION_DENYLIST: '/etc/tidings/deny.txt' }).moderationDenylist,
      ).to.equal('/etc/tidings/deny.txt');
    });

    it('decodes TIDINGS_PUBLIC_URL for http and https, without trailing slashes', () => {
      expect(valid({ TIDINGS_PUBLIC_URL: 'https://tidings.example.com/' }).publicUrl).to.equal(
        'https://tidings.example.com',
      );
      expect(valid({ TIDINGS_PUBLIC_URL: 'http://10.0.0.5:8080/hub' }).publicUrl).to.equal(
        'http://10.0.0.5:8080/hub',
      );
    });

    it('keeps a configured TIDINGS_PUBLIC_URL rather than deriving it from PORT', () => {
      expect(
        valid({ PORT: '3000', TIDINGS_PUBLIC_URL: 'https://push.example.org' }).publicUrl,
      ).to.equal('https://push.example.org');
    });

    it('decodes every TIDINGS_LOG_LEVEL, in any case', () => {
      for (const level of ['debug', 'info', 'warn', 'error', 'silent'] as const) {
        expect(valid({ TIDINGS_LOG_LEVEL: level }).logLevel).to.equal(level);
        expect(valid({ TIDINGS_LOG_LEVEL: level.toUpperCase() }).logLevel).to.equal(level);
      }
    });

    it('decodes the login and registration limits and the session length', () => {
      const settings = valid({
        TIDINGS_AUTH_FAILURE_BURST_PER_IP: '50',
        TIDINGS_AUTH_FAILURE_BURST_PER_USERNAME: '5',
        TIDINGS_REGISTRATION_BURST: '3',
        TIDINGS_SESSION_DAYS: '7',
      });
      expect(settings.authFailureBurstPerIp).to.equal(50);
      expect(settings.authFailureBurstPerUsername).to.equal(5);
      expect(settings.registrationBurst).to.equal(3);
      expect(settings.sessionDays).to.equal(7);
    });

    it('decodes both TIDINGS_SQLITE_SYNCHRONOUS modes', () => {
      expect(valid({ TIDINGS_SQLITE_SYNCHRONOUS: 'normal' }).sqliteSynchronous).to.equal('normal');
      expect(valid({ TIDINGS_SQLITE_SYNCHRONOUS: 'FULL' }).sqliteSynchronous).to.equal('full');
    });
  });

  describe('invalid values', () => {
    const cases: ReadonlyArray<readonly [name: string, value: string]> = [
      ['PORT', 'abc'],
      ['PORT', '70000'],
      ['PORT', '65536'],
      ['PORT', '-1'],
      ['PORT', '80.5'],
      ['EVENTSTORE_CONNECTION_STRING', 'http://x'],
      ['EVENTSTORE_CONNECTION_STRING', 'esdb://'],
      ['TIDINGS_ADMIN_TOKEN', 'too-short'],
      ['TIDINGS_ADMIN_TOKEN', '0123456789abcde'],
      ['TIDINGS_AUDIT_TOKEN', 'short'],
      ['TIDINGS_OUTBOUND_ALLOWLIST', '10.0.0.0/33'],
      ['TIDINGS_OUTBOUND_ALLOWLIST', 'fd00::/129'],
      ['TIDINGS_OUTBOUND_ALLOWLIST', '10.0.0.0/8,bad_host!'],
      ['TIDINGS_OUTBOUND_ALLOWLIST', 'example.com/24'],
      ['TIDINGS_OUTBOUND_ALLOWLIST', '10.0.0.0/8/1'],
      ['TIDINGS_PUBLIC_URL', 'ftp://x'],
      ['TIDINGS_PUBLIC_URL', 'not a url'],
      ['TIDINGS_LOG_LEVEL', 'loud'],
      ['TIDINGS_SQLITE_SYNCHRONOUS', 'off'],
      ['TIDINGS_PUSH_BUDGET_PER_HOUR', '0'],
      ['TIDINGS_APP_RATE_BURST', 'many'],
      ['TIDINGS_APP_RATE_PER_SECOND', '1.5'],
      ['TIDINGS_DELIVERY_MAX_ATTEMPTS', '101'],
      ['TIDINGS_WECHAT_API_BASE', 'ftp://api.weixin.qq.com'],
      ['TIDINGS_PENALTY_POINTS', '5,15'],
      ['TIDINGS_PENALTY_POINTS', '5,0,30'],
      ['TIDINGS_SUSPEND_BELOW', '-1'],
      ['TIDINGS_MAX_SUSPENSIONS', '0'],
      ['TIDINGS_SURGE_WINDOW_HOURS', 'day'],
      ['TIDINGS_AUTH_FAILURE_BURST_PER_IP', '0'],
      ['TIDINGS_AUTH_FAILURE_BURST_PER_USERNAME', 'ten'],
      ['TIDINGS_REGISTRATION_BURST', '-5'],
      ['TIDINGS_SESSION_DAYS', '3651'],
      ['TIDINGS_SMS_GATEWAY_URL', 'ftp://sms.example/send'],
      ['TIDINGS_SMS_GATEWAY_URL', 'sms.example/send'],
      ['TIDINGS_SMS_GATEWAY_URL', 'https://user:pw@sms.example/send'],
      ['TIDINGS_SMS_GATEWAY_TOKEN', 'two words'],
      ['TIDINGS_SMS_GATEWAY_TOKEN', 'tökén'],
    ];
    for (const [name, value] of cases) {
      it(`rejects ${name}=${JSON.stringify(value)} with one line naming it`, () => {
        const line = invalid({ PORT: '8080', TIDINGS_DATA_DIR: '/tmp/x', [name]: value });
        expect(line).to.not.include('\n');
        expect(line.trim()).to.not.equal('');
        expect(line).to.include(name);
        expect(line).to.match(new RegExp(`^invalid setting ${name}: `));
      });
    }

    it('refuses a WeChat app id without its secret (and the reverse), naming the setting', () => {
      expect(invalid({ TIDINGS_WECHAT_APPID: 'wx123' })).to.match(
        /^invalid setting TIDINGS_WECHAT_SECRET: /,
      );
      expect(invalid({ TIDINGS_WECHAT_SECRET: 'secret' })).to.match(
        /^invalid setting TIDINGS_WECHAT_SECRET: /,
      );
    });

    it('refuses a malformed EventStoreDB connection string or an unknown option, never quoting its password', () => {
      const malformed = invalid({
        EVENTSTORE_CONNECTION_STRING: 'esdb://admin:s3cret-pw@host:abc',
      });
      expect(malformed).to.match(
        /^invalid setting EVENTSTORE_CONNECTION_STRING: is not a valid connection string: /,
      );
      expect(malformed).to.not.include('s3cret-pw');
      const typo = invalid({
        EVENTSTORE_CONNECTION_STRING: 'esdb://admin:s3cret-pw@host:2113?tsl=false',
      });
      expect(typo).to.match(
        /^invalid setting EVENTSTORE_CONNECTION_STRING: is refused: Unknown option key "tsl"/,
      );
      expect(typo).to.not.include('s3cret-pw');
      expect(typo).to.not.include('\n');
    });

    it('refuses a suspension line at or below the ban line, naming the setting', () => {
      expect(invalid({ TIDINGS_SUSPEND_BELOW: '20', TIDINGS_BAN_BELOW: '20' })).to.match(
        /^invalid setting TIDINGS_SUSPEND_BELOW: must be above TIDINGS_BAN_BELOW \(20\), got 20$/,
      );
      expect(invalid({ TIDINGS_BAN_BELOW: '70' })).to.match(
        /^invalid setting TIDINGS_SUSPEND_BELOW: /,
      );
    });

    it("has every setting in the README's settings table", () => {
      const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
      const section = readme.slice(
        readme.indexOf('## Settings'),
        readme.indexOf('\n## ', readme.indexOf('## Settings') + 1),
      );
      const documented = new Set(
        [...section.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]),
      );
      expect(settingNames.filter((name) => !documented.has(name))).to.deep.equal([]);
    });

    it('stays on one line when the rejected value itself holds line breaks', () => {
      for (const [name, value] of [
        ['PORT', '80\n80'],
        ['TIDINGS_PUBLIC_URL', 'ftp://x\r\nsecond line'],
        ['TIDINGS_LOG_LEVEL', 'info\nloud'],
      ] as const) {
        const line = invalid({ [name]: value });
        expect(line).to.match(new RegExp(`^invalid setting ${name}: `));
        expect(line).to.not.match(/[\r\n]/);
      }
    });

    it('names the offending allowlist entry', () => {
      expect(invalid({ TIDINGS_OUTBOUND_ALLOWLIST: 'ok.example, 10.0.0.0/33' })).to.include(
        '10.0.0.0/33',
      );
      expect(invalid({ TIDINGS_OUTBOUND_ALLOWLIST: 'ok.example bad_host!' })).to.include(
        'bad_host!',
      );
    });

    it('names the variable that is wrong, not one that is fine', () => {
      const line = invalid({ PORT: '8080', TIDINGS_LOG_LEVEL: 'loud' });
      expect(line).to.include('TIDINGS_LOG_LEVEL');
      expect(line).to.not.include('PORT');
    });
  });

  describe('the SMS gateway', () => {
    const gateway = {
      TIDINGS_SMS_GATEWAY_URL: 'https://sms.example/v1/send?account=7',
      TIDINGS_SMS_GATEWAY_TOKEN: 'gw-token-123',
    };

    it('is configured when both are set, the URL kept exactly as given', () => {
      expect(valid(gateway).sms).to.deep.equal({
        gatewayUrl: 'https://sms.example/v1/send?account=7',
        token: 'gw-token-123',
      });
      expect(
        valid({ ...gateway, TIDINGS_SMS_GATEWAY_URL: 'http://10.0.0.7:9000/sms/' }).sms?.gatewayUrl,
      ).to.equal('http://10.0.0.7:9000/sms/');
    });

    it('adds nothing else to the settings', () => {
      const { sms, ...rest } = valid(gateway);
      expect(sms).to.not.equal(undefined);
      expect(rest).to.deep.equal(valid({}));
    });

    it('refuses a URL without the token, naming the missing token', () => {
      expect(invalid({ TIDINGS_SMS_GATEWAY_URL: gateway.TIDINGS_SMS_GATEWAY_URL })).to.equal(
        'invalid setting TIDINGS_SMS_GATEWAY_TOKEN: must be set when TIDINGS_SMS_GATEWAY_URL is (the gateway takes it as a Bearer token)',
      );
    });

    it('refuses a token without the URL, naming the missing URL', () => {
      expect(invalid({ TIDINGS_SMS_GATEWAY_TOKEN: 'gw-token-123' })).to.equal(
        'invalid setting TIDINGS_SMS_GATEWAY_URL: must be set when TIDINGS_SMS_GATEWAY_TOKEN is (where to send SMS)',
      );
    });

    it('says what is wrong with a bad URL or token without quoting either', () => {
      const scheme = invalid({ ...gateway, TIDINGS_SMS_GATEWAY_URL: 'ftp://sms.example/s3cr3t' });
      expect(scheme).to.equal(
        'invalid setting TIDINGS_SMS_GATEWAY_URL: must be an http(s) URL, not ftp:',
      );
      const credentials = invalid({
        ...gateway,
        TIDINGS_SMS_GATEWAY_URL: 'https://user:pa55word@sms.example/send',
      });
      expect(credentials).to.match(
        /^invalid setting TIDINGS_SMS_GATEWAY_URL: must not hold credentials/,
      );
      expect(credentials).to.not.include('pa55word');
      const token = invalid({ ...gateway, TIDINGS_SMS_GATEWAY_TOKEN: 'secret\tpart' });
      expect(token).to.match(/^invalid setting TIDINGS_SMS_GATEWAY_TOKEN: must be visible ASCII/);
      expect(token).to.not.include('secret');
    });
  });

  describe('TIDINGS_READ_ONLY', () => {
    it('is off unless set; 1, true and yes turn it on, 0, false and no off; anything else stops', () => {
      expect(valid({}).readOnly).to.equal(false);
      for (const on of ['1', 'true', 'YES'])
        expect(valid({ TIDINGS_READ_ONLY: on }).readOnly).to.equal(true);
      for (const off of ['0', 'false', 'no'])
        expect(valid({ TIDINGS_READ_ONLY: off }).readOnly).to.equal(false);
      expect(invalid({ TIDINGS_READ_ONLY: 'maybe' }))
        .to.include('TIDINGS_READ_ONLY')
        .and.include('must be 1 or 0');
    });
  });

  describe('TIDINGS_TRUST_PROXY', () => {
    const trust = (value: string) => valid({ TIDINGS_TRUST_PROXY: value }).trustProxy;

    it('is off unless set, and off, false and 0 turn it off', () => {
      expect(valid({}).trustProxy).to.equal(false);
      for (const value of ['off', 'OFF', 'false', '0']) expect(trust(value), value).to.equal(false);
    });

    it('takes a hop count', () => {
      expect(trust('1')).to.equal(1);
      expect(trust(' 2 ')).to.equal(2);
    });

    it('takes addresses, CIDR blocks and the range names, split by commas or spaces', () => {
      expect(
        trust('loopback, 10.0.0.0/8 fd00::/8,192.168.1.10 LinkLocal uniquelocal ::1'),
      ).to.deep.equal([
        'loopback',
        '10.0.0.0/8',
        'fd00::/8',
        '192.168.1.10',
        'linklocal',
        'uniquelocal',
        '::1',
      ]);
    });

    it('takes blocks up to a /8 (IPv4, also IPv4-mapped) and a /16 (IPv6, wider inside fe80::/10 and fc00::/7)', () => {
      const blocks = [
        '1.0.0.0/8',
        '::ffff:10.0.0.0/104',
        '::ffff:127.0.0.1',
        '2001:db8::/16',
        'fe80::/10',
        'fc00::/7',
        'fd12:3456::/9',
        '::/96',
      ];
      expect(trust(blocks.join(','))).to.deep.equal(blocks);
    });

    it('never hands express a list it refuses, nor one entry that trusts IPv4 clients beyond one /8', () => {
      const ipv4 = fc
        .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255))
        .map((parts) => parts.join('.'));
      const entry = fc.oneof(
        fc.tuple(ipv4, fc.nat(32)).map(([address, bits]) => `${address}/${bits}`),
        fc
          .tuple(ipv4, fc.integer({ min: 90, max: 128 }))
          .map(([address, bits]) => `::ffff:${address}/${bits}`),
        fc
          .tuple(
            fc.constantFrom('::', '::ffff:0:0', '8000::', 'fe80::', 'fc00::', '2001:db8::'),
            fc.nat(128),
          )
          .map(([address, bits]) => `${address}/${bits}`),
      );
      fc.assert(
        fc.property(entry, fc.array(ipv4, { minLength: 50, maxLength: 50 }), (value, clients) => {
          const decoded = loadSettings({ TIDINGS_TRUST_PROXY: value });
          if (E.isLeft(decoded)) {
            expect(decoded.left).to.match(/^invalid setting TIDINGS_TRUST_PROXY: [^\n]+$/);
            return;
          }
          const app = express();
          app.set('trust proxy', decoded.right.trustProxy);
          const trusts = app.get('trust proxy fn') as (address: string, hop: number) => boolean;
          const network = value.split('/')[0]?.replace('::ffff:', '') ?? '';
          const trusted = [network, ...clients].filter((address) => trusts(address, 0));
          const firstOctets = new Set(trusted.map((address) => address.split('.')[0]));
          expect(firstOctets.size, `${value} trusts ${trusted.join(' ')}`).to.be.at.most(1);
        }),
        { numRuns: 2_000 },
      );
    });

    it("gives express's trust proxy only values it accepts", () => {
      for (const value of ['off', '3', 'loopback', '10.0.0.0/8, ::ffff:127.0.0.1, fe80::/10']) {
        const app = express();
        expect(() => app.set('trust proxy', trust(value)), value).not.to.throw();
      }
    });

    for (const [value, reason] of [
      ['true', /would trust every address/],
      ['all', /would trust every address/],
      ['33', /hop count must be from 1 to 32/],
      ['-1', /"-1" is not an IP address/],
      ['proxy.internal', /"proxy\.internal" is not an IP address/],
      ['10.0.0.0/33', /"10\.0\.0\.0\/33" is not/],
      ['loopback, 300.1.1.1', /"300\.1\.1\.1" is not/],
      // Each of these once passed, and express either threw at start or trusted every client.
      ['0.0.0.0/0', /"0\.0\.0\.0\/0" is wider than a \/8/],
      ['::/0', /"::\/0" holds every IPv4-mapped address/],
      ['::ffff:0:0/96', /"::ffff:0:0\/96" holds every IPv4-mapped address/],
      ['::ffff:0.0.0.0/97', /is an IPv4-mapped block wider than an IPv4 \/8/],
      ['0.0.0.0/1,128.0.0.0/1', /"0\.0\.0\.0\/1" is wider than a \/8/],
      ['::/1,8000::/1', /"::\/1" holds every IPv4-mapped address/],
      ['8000::/1', /"8000::\/1" is wider than a \/16 outside fe80::\/10 and fc00::\/7/],
      ['::/16', /"::\/16" holds every IPv4-mapped address/],
      ['2000::/3', /is wider than a \/16/],
      ['1.0.0.0/7', /is wider than a \/8/],
    ] as const) {
      it(`refuses ${JSON.stringify(value)} with one line saying why`, () => {
        const line = invalid({ TIDINGS_TRUST_PROXY: value });
        expect(line).to.match(/^invalid setting TIDINGS_TRUST_PROXY: /);
        expect(line).to.match(reason);
        expect(line).to.not.include('\n');
      });
    }
  });

  describe('HTTP server limits', () => {
    it('defaults to 10 s for headers, 60 s for a request, 5 s keep-alive, 1024 connections, 16 KiB of headers', () => {
      const settings = valid({});
      expect(settings.httpHeadersTimeoutSeconds).to.equal(10);
      expect(settings.httpRequestTimeoutSeconds).to.equal(60);
      expect(settings.httpKeepAliveTimeoutSeconds).to.equal(5);
      expect(settings.httpMaxConnections).to.equal(1024);
      expect(settings.httpMaxHeaderBytes).to.equal(16_384);
    });

    it('decodes each one', () => {
      const settings = valid({
        TIDINGS_HTTP_HEADERS_TIMEOUT_SECONDS: '2',
        TIDINGS_HTTP_REQUEST_TIMEOUT_SECONDS: '30',
        TIDINGS_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '65',
        TIDINGS_HTTP_MAX_CONNECTIONS: '10',
        TIDINGS_HTTP_MAX_HEADER_BYTES: '32768',
      });
      expect(settings.httpHeadersTimeoutSeconds).to.equal(2);
      expect(settings.httpRequestTimeoutSeconds).to.equal(30);
      expect(settings.httpKeepAliveTimeoutSeconds).to.equal(65);
      expect(settings.httpMaxConnections).to.equal(10);
      expect(settings.httpMaxHeaderBytes).to.equal(32_768);
    });

    for (const [name, value] of [
      ['TIDINGS_HTTP_HEADERS_TIMEOUT_SECONDS', '0'],
      ['TIDINGS_HTTP_REQUEST_TIMEOUT_SECONDS', '1.5'],
      ['TIDINGS_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS', '3601'],
      ['TIDINGS_HTTP_MAX_CONNECTIONS', 'lots'],
      ['TIDINGS_HTTP_MAX_HEADER_BYTES', '1023'],
      ['TIDINGS_HTTP_MAX_HEADER_BYTES', '1048577'],
    ] as const) {
      it(`refuses ${name}=${JSON.stringify(value)} with one line naming it`, () => {
        expect(invalid({ [name]: value })).to.match(
          new RegExp(`^invalid setting ${name}: must be a whole number from `),
        );
      });
    }

    it("refuses a headers timeout above the request timeout (Node's createServer would throw)", () => {
      expect(
        invalid({
          TIDINGS_HTTP_HEADERS_TIMEOUT_SECONDS: '30',
          TIDINGS_HTTP_REQUEST_TIMEOUT_SECONDS: '20',
        }),
      ).to.equal(
        'invalid setting TIDINGS_HTTP_HEADERS_TIMEOUT_SECONDS: must not be above TIDINGS_HTTP_REQUEST_TIMEOUT_SECONDS (20), got 30',
      );
      expect(invalid({ TIDINGS_HTTP_REQUEST_TIMEOUT_SECONDS: '5' })).to.match(
        /^invalid setting TIDINGS_HTTP_HEADERS_TIMEOUT_SECONDS: /,
      );
      expect(
        valid({
          TIDINGS_HTTP_HEADERS_TIMEOUT_SECONDS: '20',
          TIDINGS_HTTP_REQUEST_TIMEOUT_SECONDS: '20',
        }).httpHeadersTimeoutSeconds,
      ).to.equal(20);
    });
  });
});
