import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { resolveDeviceSecretsKey } from '../../../adapters/config/deviceSecretsKey.js';
import { createSecretBox } from '../../../adapters/security/secretBox.js';

describe('SecretBox (AES-256-GCM sealing, keyed fingerprints)', () => {
  const box = createSecretBox(Buffer.alloc(32, 1));

  it('seals to v1.<base64url>, new each time, and opens back', () => {
    const a = box.seal('device-key-123');
    const b = box.seal('device-key-123');
    expect(a).to.match(/^v1\.[A-Za-z0-9_-]+$/);
    expect(a).to.not.equal(b);
    expect(a).to.not.include('device-key-123');
    expect(box.open(a)).to.equal('device-key-123');
    expect(box.open(box.seal('猫 🐈'))).to.equal('猫 🐈');
  });
  it('refuses to open an altered value, one of another key, or another format', () => {
    const sealed = box.seal('device-key-123');
    const last = sealed.at(-1) === 'A' ? 'B' : 'A';
    expect(() => box.open(`${sealed.slice(0, -1)}${last}`)).to.throw();
    expect(() => createSecretBox(Buffer.alloc(32, 2)).open(sealed)).to.throw();
    expect(() => box.open('v2.abc')).to.throw();
    expect(() => box.open('v1.abc')).to.throw();
  });
  it('fingerprints values by key, whatever their order, and never shows them', () => {
    const fp = box.fingerprint({ serverUrl: 'https://x.test', deviceKey: 'k' });
    expect(box.fingerprint({ deviceKey: 'k', serverUrl: 'https://x.test' })).to.equal(fp);
    expect(box.fingerprint({ deviceKey: 'k2', serverUrl: 'https://x.test' })).to.not.equal(fp);
    expect(box.fingerprint({ deviceKey: 1, serverUrl: 'https://x.test' })).to.not.equal(
      box.fingerprint({ deviceKey: '1', serverUrl: 'https://x.test' }),
    );
    expect(createSecretBox(Buffer.alloc(32, 2)).fingerprint({ deviceKey: 'k' })).to.not.equal(
      box.fingerprint({ deviceKey: 'k' }),
    );
    expect(fp).to.match(/^[A-Za-z0-9_-]{43}$/);
  });
  it('refuses a key that is not 32 bytes', () => {
    expect(() => createSecretBox(Buffer.alloc(16))).to.throw(/32 bytes/);
  });
});

describe('the device secrets key file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tidings-key-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is made on the first start, owner-only, and read back the same on the next', () => {
    const first = resolveDeviceSecretsKey(dir);
    expect(first.generated).to.equal(true);
    expect(statSync(first.file).mode & 0o777).to.equal(0o600);
    expect(Buffer.from(readFileSync(first.file, 'utf8').trim(), 'base64')).to.have.length(32);
    const again = resolveDeviceSecretsKey(dir);
    expect(again.generated).to.equal(false);
    expect(again.key.equals(first.key)).to.equal(true);
  });
  it('stops the start when the file holds no key, rather than making a new one', () => {
    writeFileSync(join(dir, 'device-secrets.key'), 'short\n');
    expect(() => resolveDeviceSecretsKey(dir)).to.throw(/32-byte key/);
    expect(readFileSync(join(dir, 'device-secrets.key'), 'utf8')).to.equal('short\n');
  });
});
