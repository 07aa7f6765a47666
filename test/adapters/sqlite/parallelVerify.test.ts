import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { signHead } from '../../../application/audit/headSigning.js';
import { HeadSigner, headSignatureCheck } from '../../../adapters/security/headSignatures.js';
import { SqliteAuditLog } from '../../../adapters/sqlite/auditLog.js';
import type { NewEvent } from '../../../domain/shared/eventStore.js';
import { DATA_ERASED_EVENT, digestOf, type ChainReport } from '../../../domain/shared/hashChain.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';

const metadata = {
  occurredAt: '2026-12-06T10:00:00.000Z',
  actor: { kind: 'system' as const, id: 'test' },
  correlationId: 'c',
  causationId: 'c',
  schemaVersion: 1,
};
const event = (type: string, data: unknown): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  metadata,
});
const erasedForm = { messageId: 'm1', recipientId: 'rcp_a', body: '[erased]' };

/**
 * The parallel verify (adapters/sqlite/parallelVerify.ts: worker threads, each looking at
 * stretches of the log) must report exactly what checking each link in turn reports, whatever was
 * done to the log. Stretches of 97 links over ~1,500 events put faults, heads and erasures on
 * either side of stretch boundaries.
 */
describe('SQLite store: verify on threads reports what verify on one thread does', function () {
  this.timeout(60_000);
  let temp: TempStore;
  let submitted = 0;
  const signer = new HeadSigner(generateKeyPairSync('ed25519').privateKey);

  beforeEach(async () => {
    temp = openTempStore();
    const sign = signHead({ audit: new SqliteAuditLog(temp.db), store: temp.store, signer });
    for (let n = 0; n < 1_500; n += 1) {
      await temp.store.appendToStream(`s-${n % 37}`, [event('Thing', { n, text: `工单 ${n}` })], {
        expectedRevision: 'any',
      });
      if (n === 700) {
        const result = await temp.store.appendToStream(
          'message-m1',
          [event('MessageSubmitted', { messageId: 'm1', recipientId: 'rcp_a', body: 'secret' })],
          { expectedRevision: 'no_stream' },
        );
        if (E.isLeft(result)) throw new Error('append failed');
        submitted = Number(result.right.position.commit);
      }
      if (n % 400 === 399) await sign(new Date(Date.parse(metadata.occurredAt) + n).toISOString());
    }
    await temp.store.appendToStream(
      'recipient-rcp_a',
      [
        event('RecipientErased', { recipientId: 'rcp_a', by: 'self' }),
        event(DATA_ERASED_EVENT, {
          recipientId: 'rcp_a',
          events: [
            {
              position: submitted,
              dataDigest: digestOf(JSON.stringify(erasedForm)).toString('hex'),
            },
          ],
        }),
      ],
      { expectedRevision: 'any' },
    );
    temp.store.erasure.rewrite([{ position: submitted, data: erasedForm }]);
  });
  afterEach(async () => {
    await temp.dispose();
  });

  const both = async (
    range: { from?: number; to?: number } = {},
  ): Promise<{ one: ChainReport; threads: ChainReport }> => {
    const options = { signatureValid: headSignatureCheck(signer.key.publicKey) };
    const one = await new SqliteAuditLog(temp.db, options, { threads: 1 }).verify(range);
    const threads = await new SqliteAuditLog(temp.db, options, {
      threads: 2,
      from: 0,
      stretch: 97,
    }).verify(range);
    return { one, threads };
  };
  const setData = (position: number, data: unknown) =>
    temp.db
      .prepare('UPDATE events SET data = ? WHERE position = ?')
      .run(JSON.stringify(data), position);

  it('an untouched log, with signed heads and an erasure, verifies the same', async () => {
    const { one, threads } = await both();
    expect(one).to.deep.include({ ok: true });
    expect(one.headsChecked).to.equal(3);
    expect(threads).to.deep.equal(one);
    const part = await both({ from: 300 });
    expect(part.one).to.deep.include({ ok: true, checked: one.head.position - 299 });
    expect(part.threads).to.deep.equal(part.one);
    // Ending before the erasure's record, the erased event is unexplained.
    const early = await both({ from: 300, to: 1_200 });
    expect(early.one).to.deep.include({ ok: false, firstBadPosition: submitted });
    expect(early.threads).to.deep.equal(early.one);
  });

  it('an edited event, a deleted row, a row without a hash: the same first bad position', async () => {
    setData(1_000, { n: 'forged' });
    let { one, threads } = await both();
    expect(one).to.deep.include({ ok: false, firstBadPosition: 1_000, fault: 'data_changed' });
    expect(threads).to.deep.equal(one);
    setData(1_000, { n: 998, text: '工单 998' }); // not what it was: still caught
    temp.db.prepare('DELETE FROM events WHERE position = 485').run(); // 5 × 97: a stretch's end
    ({ one, threads } = await both());
    expect(one).to.deep.include({ ok: false, firstBadPosition: 485, fault: 'missing' });
    expect(threads).to.deep.equal(one);
    temp.db.prepare('DELETE FROM events WHERE position < 490').run();
    temp.db.prepare('UPDATE events SET hash = NULL WHERE position = 583').run();
    ({ one, threads } = await both({ from: 491 }));
    expect(one).to.deep.include({ ok: false, firstBadPosition: 583, fault: 'unchained' });
    expect(threads).to.deep.equal(one);
  });

  it('an erased event without its record, or in no erased form: the same fault', async () => {
    const record = temp.db
      .prepare<[string], { position: number }>('SELECT position FROM events WHERE type = ?')
      .get(DATA_ERASED_EVENT)?.position;
    setData(record ?? 0, { recipientId: 'rcp_a', events: [] });
    let { one, threads } = await both();
    expect(one).to.deep.include({ ok: false, firstBadPosition: submitted, fault: 'data_changed' });
    expect(threads).to.deep.equal(one);
    setData(submitted, { ...erasedForm, body: 'another text' });
    ({ one, threads } = await both());
    expect(one).to.deep.include({ ok: false, firstBadPosition: submitted, fault: 'data_changed' });
    expect(threads).to.deep.equal(one);
  });

  it('a signed head edited with its digest: the same fault at the head', async () => {
    const head = temp.db
      .prepare<[], { position: number; data: string }>(
        "SELECT position, data FROM events WHERE type = 'AuditHeadSigned' ORDER BY position LIMIT 1",
      )
      .get();
    const data = { ...(JSON.parse(head?.data ?? '{}') as object), signature: 'AAAA' };
    setData(head?.position ?? 0, data);
    temp.db
      .prepare('UPDATE events SET data_digest = ? WHERE position = ?')
      .run(digestOf(JSON.stringify(data)), head?.position ?? 0);
    const { one, threads } = await both();
    // The digest was changed with the data, so the hash no longer follows.
    expect(one).to.deep.include({
      ok: false,
      firstBadPosition: head?.position,
      fault: 'hash_mismatch',
    });
    expect(threads).to.deep.equal(one);
  });
});
