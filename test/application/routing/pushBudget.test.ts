import { expect } from 'chai';
import { PushBudget } from '../../../application/routing/pushBudget.js';

/**
 * The push budget's bookkeeping as routing uses it: `used`, then at once `reserve` for a routing
 * with a device push, before it is stored (the read model lists the push once it is), and the
 * reservation released when the routing was not stored after all.
 */
describe('pipeline: push budget bookkeeping', () => {
  const HOUR = 3_600_000;

  /** A budget whose read model is updated before `record`, like the server's. */
  const setup = (perHour: number, earlier: number[] = []) => {
    const readModel = earlier.map((at) => new Date(at).toISOString());
    const budget = new PushBudget(perHour, (_binding, since) =>
      readModel.filter((at) => at > since),
    );
    /** One routing at `now`: pushes when within budget; returns whether it pushed. */
    const route = (now: number): boolean => {
      if (budget.used('b1', now) >= perHour) return false;
      budget.reserve('b1', now);
      readModel.push(new Date(now).toISOString());
      return true;
    };
    return { budget, route };
  };

  it('counts the first push of a quiet binding once, so a budget of 2 allows exactly 2', () => {
    const { budget, route } = setup(2);
    const t = Date.parse('2030-01-01T00:00:00Z');
    expect([route(t), route(t + 1_000), route(t + 2_000)]).to.deep.equal([true, true, false]);
    expect(budget.used('b1', t + 3_000)).to.equal(2);
  });

  it('counts pushes made before a restart, read from the read model', () => {
    const t = Date.parse('2030-01-01T00:00:00Z');
    const { budget, route } = setup(2, [t - 10_000]);
    expect(budget.used('b1', t)).to.equal(1);
    expect([route(t), route(t + 1_000)]).to.deep.equal([true, false]);
  });

  it('frees the budget an hour after a push', () => {
    const t = Date.parse('2030-01-01T00:00:00Z');
    const { budget, route } = setup(1);
    expect(route(t)).to.equal(true);
    expect(route(t + 1_000)).to.equal(false);
    expect(route(t + HOUR + 1)).to.equal(true);
    expect(budget.used('b1', t + HOUR + 2)).to.equal(1);
  });

  it('counts routings decided at the same time before either is stored', () => {
    const t = Date.parse('2030-01-01T00:00:00Z');
    const budget = new PushBudget(2, () => []);
    // Two routings decided, neither stored yet: the third sees both.
    expect(budget.used('b1', t)).to.equal(0);
    budget.reserve('b1', t);
    expect(budget.used('b1', t + 1)).to.equal(1);
    budget.reserve('b1', t + 1);
    expect(budget.used('b1', t + 2)).to.equal(2);
  });

  it('gives a reservation back when its routing was not stored', () => {
    const t = Date.parse('2030-01-01T00:00:00Z');
    const budget = new PushBudget(1, () => []);
    budget.used('b1', t);
    const release = budget.reserve('b1', t);
    expect(budget.used('b1', t + 1)).to.equal(1);
    release();
    expect(budget.used('b1', t + 2)).to.equal(0);
    // Releasing twice takes nothing else away.
    budget.used('b1', t + 3);
    budget.reserve('b1', t + 3);
    release();
    expect(budget.used('b1', t + 4)).to.equal(1);
  });
});
