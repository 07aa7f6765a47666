import axios from 'axios';
import { expect } from 'chai';
import {
  contentPieces,
  describeLabel,
  wechatMsgSecCheckPolicy,
  type WechatMsgSecCheckOptions,
} from '../../../adapters/moderation/wechatPolicy.js';
import { denylistPolicy } from '../../../domain/moderation/denylistPolicy.js';
import { limitsPolicy } from '../../../domain/moderation/limitsPolicy.js';
import { moderate, type ModerationInput } from '../../../domain/moderation/policy.js';
import {
  APP_ID,
  APP_SECRET,
  closedPortBase,
  startFakeWechat,
  type FakeWechat,
} from '../../../devtools/wechatServer.js';

const message = (fields: Partial<ModerationInput> = {}): ModerationInput => ({
  messageId: 'm-1',
  appId: 'app-1',
  openid: 'o-recipient',
  body: '您的工单已派发',
  ...fields,
});

/** Loopback only: no environment proxy, whatever the machine says. */
const loopbackHttp = () => axios.create({ proxy: false });

describe('WeChat msgSecCheck policy', () => {
  let wechat: FakeWechat;
  let clock: number;

  const policyFor = (options: Partial<WechatMsgSecCheckOptions> = {}) =>
    wechatMsgSecCheckPolicy({
      appId: APP_ID,
      appSecret: APP_SECRET,
      apiBase: wechat.base,
      http: loopbackHttp(),
      now: () => clock,
      ...options,
    });

  beforeEach(async () => {
    wechat = await startFakeWechat();
    clock = 1_700_000_000_000;
  });

  afterEach(async () => {
    await wechat.close();
  });

  describe('verdicts', () => {
    it('passes what WeChat passes, sending the documented request', async () => {
      const policy = policyFor();
      expect(policy.name).to.equal('wechat');
      const verdict = await policy.check(
        message({ title: '工单 42', subtitle: '进度', body: '师傅已出发', url: 'https://x.test' }),
      );
      expect(verdict).to.deep.equal({ kind: 'pass' });
      expect(wechat.checks).to.have.length(1);
      const [check] = wechat.checks;
      expect(check!.token).to.match(/^ACCESS_TOKEN_1_/);
      expect(check!.body).to.deep.equal({
        version: 2,
        openid: 'o-recipient',
        scene: 1,
        content: '工单 42\n进度\n师傅已出发',
      });
    });

    it('holds what WeChat wants reviewed, naming the label', async () => {
      const verdict = await policyFor().check(message({ body: 'hmm [review:20002]' }));
      expect(verdict).to.deep.equal({
        kind: 'hold',
        reason: 'WeChat suggests review: label 20002 (pornography)',
      });
    });

    it('rejects what WeChat rates risky, with the label and its name', async () => {
      const verdict = await policyFor().check(message({ body: '转账到安全账户 [risky:20008]' }));
      expect(verdict).to.deep.equal({
        kind: 'reject',
        reason: 'WeChat rates it risky: label 20008 (fraud)',
        label: '20008',
      });
      expect(describeLabel('10001')).to.equal('10001 (advertising)');
      expect(describeLabel('29999')).to.equal('29999 (unknown label)');
    });

    it('sends the configured scene', async () => {
      await policyFor({ scene: 3 }).check(message());
      expect(wechat.checks[0]!.body['scene']).to.equal(3);
    });

    it('checks a text over 2,500 characters in pieces of 2,500, without splitting a character', async () => {
      expect(
        (await policyFor().check(message({ title: 'T', body: '😀'.repeat(3000) }))).kind,
      ).to.equal('pass');
      const pieces = wechat.checks.map((check) => Array.from(check.body['content'] as string));
      // 3,002 characters: the second piece starts 100 before the end of the first.
      expect(pieces.map((piece) => piece.length)).to.deep.equal([2500, 602]);
      expect(pieces[0]?.slice(0, 3).join('')).to.equal('T\n😀');
      expect(
        contentPieces(message({ body: '字'.repeat(2400) })).map((p) => Array.from(p).length),
      ).to.deep.equal([2400]);
      expect(contentPieces(message({ title: ' ', body: ' ' }))).to.deep.equal([]);
    });

    it('rejects a long message whose risky part lies past the first 2,500 characters', async () => {
      const verdict = await policyFor().check(
        message({ body: `${'正常内容'.repeat(700)} [risky:20008] 刷单返利` }),
      );
      expect(verdict).to.deep.include({ kind: 'reject', label: '20008' });
      expect(wechat.checks).to.have.length(2);
    });

    it('sees a phrase that lies across the boundary of two pieces whole', async () => {
      // The marker starts 5 characters before the first piece ends: cut there in the first
      // piece, whole in the second.
      const verdict = await policyFor().check(
        message({ body: `${'x'.repeat(2495)}[risky:20008]${'y'.repeat(100)}` }),
      );
      expect(verdict).to.deep.include({ kind: 'reject', label: '20008' });
    });

    it('passes a message with no text to check without asking for a token', async () => {
      wechat.failTokens = 5;
      expect((await policyFor().check(message({ title: ' ', body: '   ' }))).kind).to.equal('pass');
      expect(wechat.tokenHits).to.equal(0);
    });

    it('holds a long message one of whose pieces WeChat wants reviewed', async () => {
      const verdict = await policyFor().check(
        message({ body: `${'x'.repeat(2600)} [review:20002]` }),
      );
      expect(verdict.kind).to.equal('hold');
    });
  });

  describe('access token', () => {
    it('is fetched once and reused across checks', async () => {
      const policy = policyFor();
      for (let i = 0; i < 4; i++) expect((await policy.check(message())).kind).to.equal('pass');
      expect(wechat.tokenHits).to.equal(1);
      expect(new Set(wechat.checks.map((check) => check.token)).size).to.equal(1);
    });

    it('is refreshed shortly before it expires', async () => {
      const policy = policyFor();
      await policy.check(message());
      clock += (7200 - 400) * 1000; // still well inside its life
      await policy.check(message());
      expect(wechat.tokenHits).to.equal(1);
      clock += 200 * 1000; // 200 s before expiry: inside the 5-minute margin
      await policy.check(message());
      expect(wechat.tokenHits).to.equal(2);
      clock += 7200 * 1000; // well past expiry
      await policy.check(message());
      expect(wechat.tokenHits).to.equal(3);
      expect(new Set(wechat.checks.map((check) => check.token)).size).to.equal(3);
    });

    it('is refreshed once when WeChat calls it invalid (40001), and the check retried', async () => {
      const policy = policyFor();
      await policy.check(message());
      wechat.revokeTokens();
      const verdict = await policy.check(message({ body: '[risky:20008]' }));
      expect(verdict.kind).to.equal('reject');
      expect(wechat.tokenHits).to.equal(2);
      expect(wechat.checks).to.have.length(3);
      expect(wechat.checks[2]!.token).to.not.equal(wechat.checks[1]!.token);
      await policy.check(message());
      expect(wechat.tokenHits).to.equal(2);
    });

    it('holds when a fresh token is refused too, refreshing only once', async () => {
      wechat.override = { status: 200, json: { errcode: 40001, errmsg: 'invalid credential' } };
      const verdict = await policyFor().check(message());
      expect(verdict.kind).to.equal('hold');
      expect((verdict as { reason: string }).reason).to.match(/^checker unavailable: .*40001/);
      expect(wechat.tokenHits).to.equal(2);
      expect(wechat.checks).to.have.length(2);
    });

    it('is fetched once for concurrent first checks (single flight)', async () => {
      wechat.tokenDelayMs = 50;
      const policy = policyFor();
      const verdicts = await Promise.all(
        Array.from({ length: 8 }, (_, i) => policy.check(message({ messageId: `m-${i}` }))),
      );
      expect(verdicts.every((verdict) => verdict.kind === 'pass')).to.equal(true);
      expect(wechat.tokenHits).to.equal(1);
      expect(wechat.checks).to.have.length(8);
    });

    it('holds when the token endpoint refuses, and never shows the secret', async () => {
      const verdict = await policyFor({ appSecret: 'wrong-secret-value' }).check(message());
      expect(verdict.kind).to.equal('hold');
      const { reason } = verdict as { reason: string };
      expect(reason).to.match(/^checker unavailable: token endpoint answered errcode 40125/);
      expect(reason).to.not.include('wrong-secret-value');
      expect(wechat.checks).to.have.length(0);
    });

    it('holds while the token endpoint is down, and fetches again on the next check', async () => {
      wechat.failTokens = 1;
      const policy = policyFor();
      expect(await policy.check(message())).to.deep.equal({
        kind: 'hold',
        reason: 'checker unavailable: token endpoint answered HTTP 503',
      });
      expect(await policy.check(message())).to.deep.equal({ kind: 'pass' });
      expect(wechat.tokenHits).to.equal(2);
      expect(wechat.checks).to.have.length(1);
    });
  });

  describe('an unavailable checker holds, never passes', () => {
    const holdReason = async (fields: Partial<ModerationInput> = {}, options = {}) => {
      const verdict = await policyFor(options).check(message(fields));
      expect(verdict.kind).to.equal('hold');
      return (verdict as { reason: string }).reason;
    };

    it('busy (errcode -1)', async () => {
      wechat.override = { status: 200, json: { errcode: -1, errmsg: 'system error' } };
      expect(await holdReason()).to.match(/^checker unavailable: busy/);
    });

    it('server down (nothing listens on the port)', async () => {
      const reason = await holdReason({}, { apiBase: await closedPortBase() });
      expect(reason).to.equal('checker unavailable: request failed (ECONNREFUSED)');
    });

    it('HTTP 500', async () => {
      wechat.override = { status: 500, raw: '<html>Internal Server Error</html>' };
      expect(await holdReason()).to.equal('checker unavailable: HTTP 500');
    });

    it('a timeout', async () => {
      wechat.override = { hang: true };
      expect(await holdReason({}, { timeoutMs: 150 })).to.equal('checker unavailable: timed out');
    });

    it('an answer that is not JSON', async () => {
      wechat.override = { status: 200, raw: '<html>gateway</html>' };
      expect(await holdReason()).to.equal('checker unavailable: malformed answer');
    });

    it('an answer without a usable result', async () => {
      wechat.override = { status: 200, json: { errcode: 0, errmsg: 'ok' } };
      expect(await holdReason()).to.match(/^checker unavailable: malformed answer/);
      wechat.override = {
        status: 200,
        json: { errcode: 0, errmsg: 'ok', result: { suggest: 'maybe', label: 100 } },
      };
      expect(await holdReason()).to.equal('checker unavailable: malformed answer');
    });

    it('any other errcode (e.g. 40129 bad scene)', async () => {
      wechat.override = { status: 200, json: { errcode: 40129, errmsg: 'invalid scene' } };
      expect(await holdReason()).to.equal('checker unavailable: errcode 40129 (invalid scene)');
    });
  });

  describe('messages the checker cannot judge pass, leaving them to the other policies', () => {
    it('no openid: passes without calling WeChat', async () => {
      const { openid: _openid, ...withoutOpenid } = message({ body: '[risky:20008]' });
      expect(await policyFor().check(withoutOpenid)).to.deep.equal({ kind: 'pass' });
      expect(await policyFor().check(message({ openid: '' }))).to.deep.equal({ kind: 'pass' });
      expect(wechat.tokenHits).to.equal(0);
      expect(wechat.checks).to.have.length(0);
    });

    it('bad openid (40003) and appid/openid mismatch (43104)', async () => {
      const policy = policyFor();
      expect(await policy.check(message({ openid: 'o-unknown' }))).to.deep.equal({ kind: 'pass' });
      expect(await policy.check(message({ openid: 'o-other-app' }))).to.deep.equal({
        kind: 'pass',
      });
      expect(wechat.checks).to.have.length(2);
    });

    it('no text at all', async () => {
      expect(await policyFor().check(message({ body: '  ' }))).to.deep.equal({ kind: 'pass' });
      expect(wechat.checks).to.have.length(0);
    });
  });

  describe('in the chain', () => {
    const chain = () => [denylistPolicy(['刷单']), limitsPolicy(), policyFor()];

    it('is not called for a message the denylist already refused', async () => {
      const outcome = await moderate(chain(), message({ body: '兼职刷单 [risky:20008]' }));
      expect(outcome).to.deep.equal({
        kind: 'reject',
        policy: 'denylist',
        reason: 'contains a denied term: 刷单',
      });
      expect(wechat.tokenHits).to.equal(0);
      expect(wechat.checks).to.have.length(0);
    });

    it('decides the rest: approve, hold or reject with the label', async () => {
      expect(await moderate(chain(), message())).to.deep.equal({
        kind: 'approve',
        policy: 'denylist+limits+wechat',
      });
      expect(await moderate(chain(), message({ body: '[review:21000]' }))).to.deep.equal({
        kind: 'hold',
        policy: 'wechat',
        reason: 'WeChat suggests review: label 21000 (other)',
      });
      expect(await moderate(chain(), message({ body: '[risky:10001]' }))).to.deep.equal({
        kind: 'reject',
        policy: 'wechat',
        reason: 'WeChat rates it risky: label 10001 (advertising)',
        label: '10001',
      });
    });
  });
});
