import { expect } from 'chai';
import { mailResultOfError } from '../../../adapters/outbound/smtpTransport.js';

/** An error shaped as nodemailer's SMTP connection makes them (`_formatError`). */
const smtpError = (fields: Record<string, unknown>): Error =>
  Object.assign(new Error('failed'), fields);

const TO = 'Person@Mail.Example.com';

describe('smtp transport: nodemailer errors as mail results', () => {
  it('reads a reply: its code, its text without codes, the stage of its command', () => {
    const error = smtpError({
      code: 'EENVELOPE',
      responseCode: 550,
      response: '550-5.1.1 <person@mail.example.com> unknown\r\n550 5.1.1 see docs',
      command: 'RCPT TO',
    });
    expect(mailResultOfError(error, TO, 10_000)).to.deep.equal({
      kind: 'answered',
      stage: 'recipient',
      code: 550,
      text: '5.1.1 <[address]> unknown 5.1.1 see docs',
    });
  });

  it('names the stage of each command', () => {
    const stages = ['CONN', 'EHLO', 'STARTTLS', 'AUTH PLAIN', 'MAIL FROM', 'RCPT TO', 'DATA'].map(
      (command) => {
        const result = mailResultOfError(
          smtpError({ code: 'EPROTOCOL', responseCode: 554, response: '554 no', command }),
          TO,
          1,
        );
        return result.kind === 'answered' ? result.stage : result.kind;
      },
    );
    expect(stages).to.deep.equal([
      'connect',
      'connect',
      'tls',
      'auth',
      'sender',
      'recipient',
      'data',
    ]);
  });

  it('is a timeout for ETIMEDOUT, with the limit', () => {
    expect(mailResultOfError(smtpError({ code: 'ETIMEDOUT' }), TO, 300)).to.deep.equal({
      kind: 'timed_out',
      timeoutMs: 300,
    });
  });

  it('is a network failure for a TLS error, even one with a reply', () => {
    const error = smtpError({
      message: 'Error upgrading connection with STARTTLS: 502 Error: command not recognized',
      code: 'ETLS',
      responseCode: 502,
      command: 'STARTTLS',
    });
    expect(mailResultOfError(error, TO, 1)).to.include({ kind: 'failed', code: 'ETLS' });
  });

  it("keeps the system's code of a refused connection", () => {
    const error = smtpError({
      message: 'connect ECONNREFUSED 127.0.0.1:25',
      code: 'ESOCKET',
      originalCode: 'ECONNREFUSED',
    });
    expect(mailResultOfError(error, TO, 1)).to.deep.equal({
      kind: 'failed',
      code: 'ECONNREFUSED',
      message: 'connect ECONNREFUSED 127.0.0.1:25',
    });
  });

  it('is unusable when AUTH cannot start, or the client refuses the envelope, never quoting it', () => {
    expect(
      mailResultOfError(
        smtpError({ message: 'Missing credentials for "PLAIN"', code: 'EAUTH' }),
        TO,
        1,
      ),
    ).to.deep.equal({ kind: 'unusable', detail: 'Missing credentials for "PLAIN"' });
    const envelope = mailResultOfError(
      smtpError({ message: `Invalid recipient "${TO}"`, code: 'EENVELOPE' }),
      TO,
      1,
    );
    expect(envelope.kind).to.equal('unusable');
    expect(JSON.stringify(envelope).toLowerCase()).to.not.include('person@');
  });

  it('masks the address in any message, whatever its case', () => {
    const result = mailResultOfError(
      smtpError({
        message: 'closed while sending to person@mail.example.com',
        code: 'ECONNECTION',
      }),
      TO,
      1,
    );
    expect(result).to.deep.equal({
      kind: 'failed',
      code: 'ECONNECTION',
      message: 'closed while sending to [address]',
    });
  });

  it('takes a thrown non-error too', () => {
    expect(mailResultOfError('boom', TO, 1)).to.deep.equal({
      kind: 'failed',
      code: 'ERR_UNKNOWN',
      message: 'boom',
    });
  });
});
