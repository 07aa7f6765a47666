import { expect } from 'chai';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { verifyExport } from '../../../application/audit/exportVerification.js';
import { signHead } from '../../../application/audit/headSigning.js';
import { auditItem } from '../../../adapters/http/api/auditRoutes.js';
import { HeadSigner, headSignatureCheck } from '../../../adapters/security/headSignatures.js';
import { SqliteAuditLog } from '../../../adapters/sqlite/auditLog.js';
import { SIGNED_HEAD_EVENT } from '../../../domain/shared/hashChain.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';

const metadata = {
  occurredAt: '2026-12-04T10:00:00.000Z',
  actor: { kind: 'system' as const, id: 'test' },
  correlationId: 'c',
  causationId: 'c',
  schemaVersion: 1,
};

describe('audit: offline verification of an export (application/audit/exportVerification.ts)', () => {
  let temp: TempStore;
  let lines: string[];
  const signer = new HeadSigner(generateKeyPairSync('ed25519').privateKey);
  const signatureValid = headSignatureCheck(signer.key.publicKey);

  beforeEach(async () => {
    temp = openTempStore();
    const audit = new SqliteAuditLog(temp.db);
    const sign = signHead({ audit, store: temp.store, signer });
    for (let n = 0; n < 12; n += 1) {
      await temp.store.appendToStream(
        `s-${n}`,
        [{ id: randomUUID(), type: 'Thing', data: { n, text: '工单 "quoted" \u2028' }, metadata }],
        { expectedRevision: 'no_stream' },
      );
      if (n === 5) await sign('2026-12-04T10:00:05.000Z');
    }
    await sign('2026-12-04T10:00:13.000Z');
    lines = [...audit.scan({})].map((event) => JSON.stringify(auditItem(event)));
  });
  afterEach(async () => {
    await temp.dispose();
  });

  it('accepts an untouched export and checks both signed heads in it', async () => {
    const report = await verifyExport(lines, { signatureValid });
    expect(report).to.include({ ok: true, checked: 14, headsChecked: 2, firstPosition: 1 });
  });

  it('refuses a head signed with another key', async () => {
    const other = headSignatureCheck(
      new HeadSigner(generateKeyPairSync('ed25519').privateKey).key.publicKey,
    );
    const report = await verifyExport(lines, { signatureValid: other });
    expect(report).to.include({ ok: false, fault: 'bad_signature', firstBadPosition: 7 });
  });

  it("refuses a signed head whose signature was edited, naming the head's position", async () => {
    const edited = lines.map((line) => {
      const item = JSON.parse(line) as { type: string; data: { signature: string } };
      if (item.type !== SIGNED_HEAD_EVENT) return line;
      return JSON.stringify({ ...item, data: { ...item.data, signature: 'AAAA' } });
    });
    // The edited data no longer matches its digest: the first head is where it breaks.
    const report = await verifyExport(edited, { signatureValid });
    expect(report).to.include({ ok: false, firstBadPosition: 7 });
  });

  it('matches a kept head, and says so when the export does not hold it unchanged', async () => {
    const item = JSON.parse(lines[4] ?? '{}') as { position: string; hash: string };
    const kept = { position: Number(item.position), hash: item.hash };
    expect(await verifyExport(lines, { keptHead: kept })).to.include({ keptHeadMatches: true });
    const changed = { ...kept, hash: 'ab'.repeat(32) };
    expect(await verifyExport(lines, { keptHead: changed })).to.include({ keptHeadMatches: false });
    const beyond = { ...kept, position: 999 };
    expect(await verifyExport(lines, { keptHead: beyond })).to.include({ keptHeadMatches: false });
  });

  it('names a line removed from the middle, and a line that is not an event', async () => {
    const removed = lines.filter((_, index) => index !== 8);
    expect(await verifyExport(removed)).to.include({
      ok: false,
      fault: 'missing',
      firstBadPosition: 9,
    });
    const garbled = [...lines.slice(0, 3), '{"not":"an event"}', ...lines.slice(3)];
    const report = await verifyExport(garbled);
    expect(report.ok).to.equal(false);
    expect(report.reason).to.equal('line 4 lacks the fields of an exported event');
  });

  it('starts a partial export at its first line, trusting its previous hash', async () => {
    expect(await verifyExport(lines.slice(5))).to.include({
      ok: true,
      checked: 9,
      firstPosition: 6,
    });
  });
});
