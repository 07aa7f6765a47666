import { expect } from 'chai';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { signHead } from '../../../application/audit/headSigning.js';
import { HeadSigner } from '../../../adapters/security/headSignatures.js';
import { SqliteAuditLog } from '../../../adapters/sqlite/auditLog.js';
import { SIGNED_HEAD_EVENT } from '../../../domain/shared/hashChain.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';

const metadata = {
  occurredAt: '2026-12-06T10:00:00.000Z',
  actor: { kind: 'system' as const, id: 'test' },
  correlationId: 'c',
  causationId: 'c',
  schemaVersion: 1,
};

describe('audit: signing heads on demand (application/audit/headSigning.ts)', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(() => temp.dispose());

  it('signs at most ten heads at once beyond its allowance, then gives the last one until it comes back', async () => {
    const audit = new SqliteAuditLog(temp.db);
    const sign = signHead({
      audit,
      store: temp.store,
      signer: new HeadSigner(generateKeyPairSync('ed25519').privateKey),
    });
    const write = async () => {
      await temp.store.appendToStream(
        `s-${randomUUID()}`,
        [{ id: randomUUID(), type: 'Thing', data: {}, metadata }],
        { expectedRevision: 'no_stream' },
      );
    };
    const heads = () => audit.events({ types: [SIGNED_HEAD_EVENT], limit: 1000 }).length;
    const at = (ms: number) => new Date(Date.parse('2026-12-06T10:00:00.000Z') + ms).toISOString();
    const signed = [];
    for (let n = 0; n < 12; n += 1) {
      await write();
      signed.push(await sign(at(n)));
    }
    // Ten new heads, then the tenth again: the log grew by ten, not twelve.
    expect(heads()).to.equal(10);
    expect(signed[10]).to.deep.equal(signed[9]);
    expect(signed[11]).to.deep.equal(signed[9]);
    // Six seconds later one more may be signed, and it covers the writes made meanwhile.
    await write();
    const later = await sign(at(11 + 6_000));
    expect(heads()).to.equal(11);
    expect(later.position).to.be.greaterThan(signed[9]?.position ?? Infinity);
  });

  it("takes another key's head as signed for the minute's signing, not on demand (nodes with keys of their own)", async () => {
    const audit = new SqliteAuditLog(temp.db);
    const nodeA = signHead({
      audit,
      store: temp.store,
      signer: new HeadSigner(generateKeyPairSync('ed25519').privateKey),
    });
    const nodeB = signHead({
      audit,
      store: temp.store,
      signer: new HeadSigner(generateKeyPairSync('ed25519').privateKey),
    });
    await temp.store.appendToStream(
      `s-${randomUUID()}`,
      [{ id: randomUUID(), type: 'Thing', data: {}, metadata }],
      { expectedRevision: 'no_stream' },
    );
    const heads = () => audit.events({ types: [SIGNED_HEAD_EVENT], limit: 1000 }).length;
    const byA = await nodeA('2026-12-06T10:00:00.000Z', { anyKey: true });
    // An idle log: the nodes' minutes go by and nothing more is appended.
    for (let minute = 1; minute <= 3; minute += 1) {
      expect(await nodeB(`2026-12-06T10:0${minute}:00.000Z`, { anyKey: true })).to.deep.equal(byA);
      expect(await nodeA(`2026-12-06T10:0${minute}:30.000Z`, { anyKey: true })).to.deep.equal(byA);
    }
    expect(heads()).to.equal(1);
    // Asked on demand, a node answers with a head of its own key.
    const byB = await nodeB('2026-12-06T10:05:00.000Z');
    expect(byB.keyId).to.not.equal(byA.keyId);
    expect(heads()).to.equal(2);
  });
});
