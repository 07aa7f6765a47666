import { expect } from 'chai';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { verifyExport, type ExportReport } from '../../../application/audit/exportVerification.js';
import { introduceSigningKey, signHead } from '../../../application/audit/headSigning.js';
import { auditItem } from '../../../adapters/http/api/auditRoutes.js';
import {
  HeadKeyRing,
  HeadSigner,
  headSignatureCheck,
} from '../../../adapters/security/headSignatures.js';
import { SqliteAuditLog } from '../../../adapters/sqlite/auditLog.js';
import {
  chainHash,
  digestOf,
  GENESIS_HASH,
  SIGNED_HEAD_EVENT,
  SIGNING_KEY_EVENT,
  type Digest,
} from '../../../domain/shared/hashChain.js';
import { openTempStore, type TempStore } from '../../support/sqliteStore.js';

const metadata = {
  occurredAt: '2026-12-04T10:00:00.000Z',
  actor: { kind: 'system' as const, id: 'test' },
  correlationId: 'c',
  causationId: 'c',
  schemaVersion: 1,
};

/**
 * The lines with every digest and hash recomputed from their content, as someone rewriting the
 * log would do, from `start` (the genesis hash by default).
 */
const rechained = (lines: readonly string[], start = GENESIS_HASH.toString('hex')): string[] => {
  let previous: Digest = Buffer.from(start, 'hex');
  return lines.map((line) => {
    const item = JSON.parse(line) as Record<string, unknown> & { data: unknown; metadata: unknown };
    const data = JSON.stringify(item.data);
    const dataDigest = digestOf(data);
    const hash = chainHash(previous, {
      position: Number(item['position']),
      eventId: String(item['eventId']),
      stream: String(item['stream']),
      revision: Number(item['revision']),
      type: String(item['type']),
      dataDigest,
      metadata: JSON.stringify(item.metadata),
    });
    const out = {
      ...item,
      dataDigest: dataDigest.toString('hex'),
      previousHash: previous.toString('hex'),
      hash: hash.toString('hex'),
    };
    previous = hash;
    return JSON.stringify(out);
  });
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
    expect(report).to.include({ ok: false, firstBadPosition: 7, fault: 'data_changed' });
    // Rewritten with the whole chain after it recomputed, only the signature gives it away.
    const rewritten = await verifyExport(rechained(edited), { signatureValid });
    expect(rewritten).to.include({ ok: false, firstBadPosition: 7, fault: 'bad_signature' });
    // Without the key, the later head still names the hash the chain had before the rewrite.
    expect(await verifyExport(rechained(edited))).to.include({
      ok: false,
      firstBadPosition: 14,
      fault: 'head_mismatch',
    });
  });

  it('an export from the first event must start at the genesis hash', async () => {
    const first = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    const forged = [JSON.stringify({ ...first, previousHash: 'ab'.repeat(32) }), ...lines.slice(1)];
    expect(await verifyExport(rechained(forged, 'ab'.repeat(32)))).to.include({
      ok: false,
      firstBadPosition: 1,
      fault: 'hash_mismatch',
    });
  });

  it('checks heads signed by an earlier key with the key the log introduced for it', async () => {
    // The key file was lost: the server made a new key, introduced it and signed with it.
    const newSigner = new HeadSigner(generateKeyPairSync('ed25519').privateKey);
    const audit = new SqliteAuditLog(temp.db);
    const now = '2026-12-04T10:01:00.000Z';
    await introduceSigningKey({ audit, store: temp.store, signer: newSigner, now });
    await signHead({ audit, store: temp.store, signer: newSigner })(now);
    const all = [...audit.scan({})].map((event) => JSON.stringify(auditItem(event)));
    const learning = (given: string[]): { ring: HeadKeyRing; report: Promise<ExportReport> } => {
      const ring = new HeadKeyRing(given);
      return {
        ring,
        report: verifyExport(all, { signatureValid: ring.check, keyIntroduced: ring.learn }),
      };
    };
    // The old heads' key is not in the log (they were signed before keys were introduced), so
    // the auditor gives it; the new key is learnt from the log.
    expect(await learning([signer.key.publicKey]).report).to.include({
      ok: true,
      headsChecked: 3,
    });
    // With the new key alone, the old heads have no key to check them by.
    expect(
      await verifyExport(all, { signatureValid: headSignatureCheck(newSigner.key.publicKey) }),
    ).to.include({ ok: false, fault: 'bad_signature', firstBadPosition: 7 });
    // A key event whose id is not its key's is refused where it stands.
    const keyIndex = all.findIndex((line) => line.includes(SIGNING_KEY_EVENT));
    const wrongId = all.map((line, index) => {
      if (index !== keyIndex) return line;
      const item = JSON.parse(line) as { data: { keyId: string } };
      return JSON.stringify({ ...item, data: { ...item.data, keyId: '0'.repeat(16) } });
    });
    const ring = new HeadKeyRing([signer.key.publicKey]);
    const report = await verifyExport(rechained(wrongId), {
      signatureValid: ring.check,
      keyIntroduced: ring.learn,
    });
    expect(report).to.include({
      ok: false,
      fault: 'bad_signature',
      firstBadPosition: keyIndex + 1,
    });
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
    expect(report).to.include({ ok: false, fault: 'malformed_line', firstBadPosition: 4 });
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
