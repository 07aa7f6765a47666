import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledDenylistPath, loadDenylist } from '../../../adapters/moderation/denylistFile.js';
import { denylistPolicy } from '../../../domain/moderation/denylistPolicy.js';
import { rejectionOf } from '../../support/rejection.js';

describe('denylist file', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tidings-denylist-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the bundled list when no file is configured, Chinese terms included', async () => {
    const terms = await loadDenylist(undefined);
    expect(terms.length).to.be.within(20, 200);
    expect(terms).to.include('刷单');
    expect(terms).to.include('free bitcoin');
    expect(terms.some((term) => term.startsWith('#'))).to.equal(false);
    expect(new Set(terms).size).to.equal(terms.length);
    expect(bundledDenylistPath()).to.match(/default-denylist\.txt$/);
  });

  it('the bundled list refuses a typical scam and lets a work-order update through', async () => {
    const policy = denylistPolicy(await loadDenylist(undefined));
    const base = { messageId: 'm', appId: 'a' };
    expect(policy.check({ ...base, body: '招聘兼职，在家刷单，日结工资' })).to.deep.equal({
      kind: 'reject',
      reason: 'contains a denied term: 刷单',
    });
    expect(policy.check({ ...base, body: '您的工单已派发，维修师傅已出发。' })).to.deep.equal({
      kind: 'pass',
    });
    expect(
      policy.check({ ...base, body: 'Technician dispatched; arrival at 14:00.' }),
    ).to.deep.equal({ kind: 'pass' });
  });

  it('uses a configured file instead of the bundled list', async () => {
    const file = join(dir, 'terms.txt');
    writeFileSync(file, '# ours\nwidget sale\n\n团购秒杀\n');
    const terms = await loadDenylist(file);
    expect(terms).to.deep.equal(['widget sale', '团购秒杀']);
  });

  it('throws an error naming a missing file', async () => {
    const file = join(dir, 'missing.txt');
    const error = await rejectionOf(loadDenylist(file));
    expect(error.message).to.include(file);
    expect(error.message).to.match(/denylist/);
  });

  it('throws an error naming a file it cannot read (a folder)', async () => {
    const error = await rejectionOf(loadDenylist(dir));
    expect(error.message).to.include(dir);
  });
});
