import { expect } from 'chai';
import { outcomeOfMail } from '../../../channels/email/emailAnswers.js';
import type { MailAnswered, SmtpStage } from '../../../channels/email/mailTransport.js';

const answered = (stage: SmtpStage, code: number, text: string): MailAnswered => ({
  kind: 'answered',
  stage,
  code,
  text,
});

/** The rejection code of a reply, or the outcome's kind when it is not a rejection. */
const verdict = (stage: SmtpStage, code: number, text: string): string => {
  const outcome = outcomeOfMail(answered(stage, code, text));
  return outcome.kind === 'rejected' ? (outcome.code ?? 'rejected') : outcome.kind;
};

describe('email channel: outcomes', () => {
  it('is delivered when the server took the mail', () => {
    expect(outcomeOfMail({ kind: 'delivered' })).to.deep.equal({ kind: 'delivered' });
  });

  it('fails (retry) on every 4xx, whatever the stage', () => {
    expect(verdict('recipient', 450, '4.2.1 Mailbox busy')).to.equal('failed');
    expect(verdict('recipient', 451, '4.7.1 Greylisted')).to.equal('failed');
    expect(verdict('connect', 421, 'Service not available')).to.equal('failed');
    expect(verdict('data', 452, '4.3.1 Insufficient storage')).to.equal('failed');
  });

  it('marks the device unknown for a mailbox that does not exist', () => {
    expect(verdict('recipient', 550, '5.1.1 User unknown')).to.equal('device_unknown');
    expect(verdict('recipient', 550, 'No such user')).to.equal('device_unknown');
    expect(verdict('recipient', 551, 'User not local')).to.equal('device_unknown');
    expect(verdict('recipient', 553, 'Mailbox name not allowed')).to.equal('device_unknown');
    expect(verdict('recipient', 554, '5.1.2 Bad destination system address')).to.equal(
      'device_unknown',
    );
  });

  it("calls auth and policy refusals misconfigured, not the person's fault", () => {
    expect(verdict('auth', 535, '5.7.8 Authentication credentials invalid')).to.equal(
      'misconfigured',
    );
    expect(verdict('sender', 530, '5.7.0 Authentication required')).to.equal('misconfigured');
    expect(verdict('recipient', 550, '5.7.1 Relaying denied')).to.equal('misconfigured');
    expect(verdict('recipient', 550, 'Relay access denied')).to.equal('misconfigured');
    expect(verdict('data', 550, '5.7.26 Unauthenticated email is not accepted (DMARC)')).to.equal(
      'misconfigured',
    );
    expect(verdict('sender', 553, 'Sender address rejected')).to.equal('misconfigured');
    expect(verdict('connect', 554, 'No SMTP service here')).to.equal('misconfigured');
  });

  it('calls other permanent refusals of this message bad_request', () => {
    expect(verdict('recipient', 552, '5.2.2 Mailbox full')).to.equal('bad_request');
    expect(verdict('data', 552, '5.3.4 Message too big')).to.equal('bad_request');
    expect(verdict('data', 554, 'Transaction failed')).to.equal('bad_request');
    expect(verdict('recipient', 501, 'Syntax error')).to.equal('bad_request');
  });

  it('retries a success code where a refusal was expected', () => {
    expect(verdict('data', 250, 'OK')).to.equal('failed');
  });

  it('quotes the server before RCPT TO, and only the codes from RCPT TO on', () => {
    const auth = outcomeOfMail(answered('auth', 535, '5.7.8 Bad credentials for tidings'));
    expect(auth).to.deep.equal({
      kind: 'rejected',
      code: 'misconfigured',
      reason: 'the SMTP server answered AUTH with 535 5.7.8 Bad credentials for tidings',
    });
    const rcpt = outcomeOfMail(answered('recipient', 550, '5.1.1 <bob@x.example>: User unknown'));
    expect(rcpt).to.deep.equal({
      kind: 'rejected',
      code: 'device_unknown',
      reason: 'the SMTP server answered RCPT TO with 550 5.1.1',
    });
    const sendmail = outcomeOfMail(answered('recipient', 550, 'bob... User unknown'));
    expect(JSON.stringify(sendmail)).to.not.include('bob');
  });

  it('fails on network failures and timeouts, and rejects an unusable client', () => {
    expect(
      outcomeOfMail({ kind: 'failed', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }),
    ).to.deep.equal({
      kind: 'failed',
      reason: 'could not reach the SMTP server (ECONNREFUSED): connect ECONNREFUSED',
    });
    expect(outcomeOfMail({ kind: 'timed_out', timeoutMs: 500 })).to.deep.equal({
      kind: 'failed',
      reason: 'the SMTP server did not answer within 500 ms',
    });
    expect(outcomeOfMail({ kind: 'unusable', detail: 'no AUTH mechanism' })).to.deep.equal({
      kind: 'rejected',
      code: 'misconfigured',
      reason: 'the SMTP settings do not work: no AUTH mechanism',
    });
  });
});
