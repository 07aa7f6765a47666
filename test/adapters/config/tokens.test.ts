import { expect } from 'chai';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveToken } from '../../../adapters/config/tokens.js';

const modeOf = (file: string): number => statSync(file).mode & 0o777;

describe('resolveToken', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tidings-tokens-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates a prefixed random token and writes it owner-only to the data folder', () => {
    const resolved = resolveToken(undefined, dir, 'admin-token', 'tda_');
    const file = join(dir, 'admin-token');
    expect(resolved.generated).to.equal(true);
    expect(resolved.file).to.equal(file);
    expect(resolved.token).to.match(/^tda_[A-Za-z0-9_-]{40,}$/);
    expect(readFileSync(file, 'utf8').trim()).to.equal(resolved.token);
    expect(modeOf(file)).to.equal(0o600);
  });

  it('reuses the generated token on a second resolve', () => {
    const first = resolveToken(undefined, dir, 'admin-token', 'tda_');
    const second = resolveToken(undefined, dir, 'admin-token', 'tda_');
    expect(second.token).to.equal(first.token);
    expect(second.generated).to.equal(false);
    expect(second.file).to.equal(join(dir, 'admin-token'));
  });

  it('generates different tokens for different files', () => {
    const admin = resolveToken(undefined, dir, 'admin-token', 'tda_');
    const audit = resolveToken(undefined, dir, 'audit-token', 'tdu_');
    expect(audit.token).to.match(/^tdu_/);
    expect(audit.token).to.not.equal(admin.token);
  });

  it('prefers a configured token and writes no file', () => {
    const resolved = resolveToken('configured-token-0123456789', dir, 'admin-token', 'tda_');
    expect(resolved).to.deep.equal({ token: 'configured-token-0123456789', generated: false });
    expect(existsSync(join(dir, 'admin-token'))).to.equal(false);
  });

  it('prefers a configured token over one generated earlier', () => {
    const generated = resolveToken(undefined, dir, 'admin-token', 'tda_');
    const resolved = resolveToken('configured-token-0123456789', dir, 'admin-token', 'tda_');
    expect(resolved.token).to.equal('configured-token-0123456789');
    expect(resolved.file).to.equal(undefined);
    // The earlier file is left alone.
    expect(readFileSync(join(dir, 'admin-token'), 'utf8').trim()).to.equal(generated.token);
  });

  it('replaces a file whose token is too short and tightens its permissions', () => {
    const file = join(dir, 'admin-token');
    writeFileSync(file, 'short\n');
    chmodSync(file, 0o644);
    const resolved = resolveToken(undefined, dir, 'admin-token', 'tda_');
    expect(resolved.generated).to.equal(true);
    expect(resolved.token).to.match(/^tda_/);
    expect(readFileSync(file, 'utf8').trim()).to.equal(resolved.token);
    expect(modeOf(file)).to.equal(0o600);
  });
});
