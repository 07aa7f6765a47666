import { expect } from 'chai';
import fc from 'fast-check';
import type { DeliveryDecision, DeliveryFacts } from '../../../domain/delivery/deliveryDecision.js';
import {
  decideDelivery,
  DEFAULT_PUSH_BUDGET_PER_HOUR,
} from '../../../domain/delivery/deliveryDecision.js';
import type {
  MessageInboxOnlyReason,
  MessageSuppressionReason,
} from '../../../domain/message/messageEvents.js';
import {
  MessageInboxOnlyReason as InboxOnlyReasonCodec,
  MessageSuppressionReason as SuppressionReasonCodec,
  RoutedChannels,
} from '../../../domain/message/messageEvents.js';

const now = '2025-03-01T12:00:00.000Z';
const later = '2025-03-01T13:00:00.000Z';
const earlier = '2025-03-01T11:00:00.000Z';

const base: DeliveryFacts = {
  binding: { status: 'active', level: 'strong', blocked: false },
  app: { status: 'active' },
  deviceChannels: ['bark'],
  devicePushesLastHour: 0,
  pushBudgetPerHour: DEFAULT_PUSH_BUDGET_PER_HOUR,
  now,
};

/** The base facts (strong, active, Bark, nothing pushed yet) with some of them changed. */
const facts = (
  changes: Partial<Omit<DeliveryFacts, 'binding'>> & {
    readonly binding?: Partial<DeliveryFacts['binding']>;
  } = {},
): DeliveryFacts => ({ ...base, ...changes, binding: { ...base.binding, ...changes.binding } });

const suppress = (reason: MessageSuppressionReason): DeliveryDecision => ({
  kind: 'suppress',
  reason,
});
const inboxOnly = (reason: MessageInboxOnlyReason): DeliveryDecision => ({
  kind: 'route',
  channels: ['inbox'],
  inboxOnly: reason,
});
const route = (...devices: string[]): DeliveryDecision => ({
  kind: 'route',
  channels: ['inbox', ...devices],
});

describe('decideDelivery', () => {
  it('defaults the push budget to 30 device pushes an hour', () => {
    expect(DEFAULT_PUSH_BUDGET_PER_HOUR).to.equal(30);
  });

  describe('representative rows', () => {
    const rows: readonly (readonly [string, DeliveryFacts, DeliveryDecision])[] = [
      ['strong, not muted, Bark, under budget → inbox and Bark', facts(), route('bark')],
      [
        'two device channels → inbox first, then both',
        facts({ deviceChannels: ['bark', 'email'] }),
        route('bark', 'email'),
      ],
      ['revoked → suppress', facts({ binding: { status: 'revoked' } }), suppress('revoked')],
      [
        'revoked beats a banned app',
        facts({ binding: { status: 'revoked' }, app: { status: 'banned' } }),
        suppress('revoked'),
      ],
      ['banned app → suppress', facts({ app: { status: 'banned' } }), suppress('app_banned')],
      [
        'banned app beats a block',
        facts({ app: { status: 'banned' }, binding: { blocked: true } }),
        suppress('app_banned'),
      ],
      [
        'suspended until later → suppress',
        facts({ app: { status: 'suspended', suspendedUntil: later } }),
        suppress('app_suspended'),
      ],
      [
        'suspended with no end → suppress',
        facts({ app: { status: 'suspended' } }),
        suppress('app_suspended'),
      ],
      [
        'suspension that ended at now → delivered as usual',
        facts({ app: { status: 'suspended', suspendedUntil: now } }),
        route('bark'),
      ],
      [
        'suspension that ended earlier → delivered as usual',
        facts({ app: { status: 'suspended', suspendedUntil: earlier } }),
        route('bark'),
      ],
      ['blocked → suppress', facts({ binding: { blocked: true } }), suppress('blocked')],
      [
        'blocked beats level none',
        facts({ binding: { blocked: true, level: 'none' } }),
        suppress('blocked'),
      ],
      ['level none → suppress', facts({ binding: { level: 'none' } }), suppress('level_none')],
      ['weak → inbox only', facts({ binding: { level: 'weak' } }), inboxOnly('weak')],
      [
        'weak beats a mute',
        facts({ binding: { level: 'weak', mutedUntil: later } }),
        inboxOnly('weak'),
      ],
      [
        'muted until later → inbox only',
        facts({ binding: { mutedUntil: later } }),
        inboxOnly('muted'),
      ],
      [
        'mute that ended at now → Bark again',
        facts({ binding: { mutedUntil: now } }),
        route('bark'),
      ],
      [
        'muted beats no device and over budget',
        facts({ binding: { mutedUntil: later }, deviceChannels: [], devicePushesLastHour: 99 }),
        inboxOnly('muted'),
      ],
      ['no device channel → inbox only', facts({ deviceChannels: [] }), inboxOnly('no_device')],
      [
        'no device beats over budget',
        facts({ deviceChannels: [], devicePushesLastHour: 30 }),
        inboxOnly('no_device'),
      ],
      ['29 of 30 pushes used → Bark', facts({ devicePushesLastHour: 29 }), route('bark')],
      [
        '30 of 30 pushes used → inbox only',
        facts({ devicePushesLastHour: 30 }),
        inboxOnly('over_budget'),
      ],
      [
        'a budget of 0 → never a device push',
        facts({ pushBudgetPerHour: 0 }),
        inboxOnly('over_budget'),
      ],
      [
        'quiet hours → the inbox now, the push deferred to their end',
        facts({ quietUntil: later }),
        {
          kind: 'route',
          channels: ['inbox'],
          inboxOnly: 'quiet_hours',
          deferred: { channels: ['bark'], until: later },
        },
      ],
      [
        'over budget beats quiet hours',
        facts({ quietUntil: later, devicePushesLastHour: 30 }),
        inboxOnly('over_budget'),
      ],
      ['quiet hours ending by now no longer hold', facts({ quietUntil: now }), route('bark')],
      [
        'the inbox or a repeat among device channels is listed once',
        facts({ deviceChannels: ['inbox', 'bark', 'bark'] }),
        route('bark'),
      ],
      [
        'only the inbox among device channels → no device',
        facts({ deviceChannels: ['inbox'] }),
        inboxOnly('no_device'),
      ],
    ];
    for (const [name, given, expected] of rows) {
      it(name, () => {
        expect(decideDelivery(given)).to.deep.equal(expected);
      });
    }
  });

  describe('every combination against the table', () => {
    type BindingStatus = DeliveryFacts['binding']['status'];
    type Level = DeliveryFacts['binding']['level'];
    type Mute = 'none' | 'ended' | 'ahead';
    type AppStanding = 'active' | 'suspended' | 'suspension ended' | 'banned';
    type Pushes = 'below budget' | 'at budget' | 'above budget';

    /** One combination of the facts, in the words of the table. */
    interface Row {
      readonly status: BindingStatus;
      readonly level: Level;
      readonly blocked: boolean;
      readonly mute: Mute;
      readonly app: AppStanding;
      readonly device: boolean;
      readonly pushes: Pushes;
    }

    type Outcome =
      | { readonly suppress: MessageSuppressionReason }
      | { readonly inboxOnly: MessageInboxOnlyReason }
      | 'inbox and devices';

    /**
     * The oracle: decideDelivery's JSDoc table, row by row, read top down; the first row whose
     * condition holds gives the outcome.
     */
    const table: readonly (readonly [(row: Row) => boolean, Outcome])[] = [
      [(row) => row.status === 'revoked', { suppress: 'revoked' }],
      [(row) => row.app === 'banned', { suppress: 'app_banned' }],
      [(row) => row.app === 'suspended', { suppress: 'app_suspended' }],
      [(row) => row.blocked, { suppress: 'blocked' }],
      [(row) => row.level === 'none', { suppress: 'level_none' }],
      [(row) => row.level === 'weak', { inboxOnly: 'weak' }],
      [(row) => row.mute === 'ahead', { inboxOnly: 'muted' }],
      [(row) => !row.device, { inboxOnly: 'no_device' }],
      [(row) => row.pushes !== 'below budget', { inboxOnly: 'over_budget' }],
      [() => true, 'inbox and devices'],
    ];

    const lookUp = (row: Row): Outcome => table.find(([when]) => when(row))![1];

    const expectedFor = (outcome: Outcome, deviceChannels: readonly string[]): DeliveryDecision => {
      if (outcome === 'inbox and devices') return route(...deviceChannels);
      return 'suppress' in outcome ? suppress(outcome.suppress) : inboxOnly(outcome.inboxOnly);
    };

    const statuses: readonly BindingStatus[] = ['active', 'revoked'];
    const levels: readonly Level[] = ['strong', 'weak', 'none'];
    const blocks: readonly boolean[] = [false, true];
    const mutes: readonly Mute[] = ['none', 'ended', 'ahead'];
    const apps: readonly AppStanding[] = ['active', 'suspended', 'suspension ended', 'banned'];
    const devices: readonly boolean[] = [true, false];
    const pushes: readonly Pushes[] = ['below budget', 'at budget', 'above budget'];

    const rows: readonly Row[] = statuses.flatMap((status) =>
      levels.flatMap((level) =>
        blocks.flatMap((blocked) =>
          mutes.flatMap((mute) =>
            apps.flatMap((app) =>
              devices.flatMap((device) =>
                pushes.map((used): Row => ({
                  status,
                  level,
                  blocked,
                  mute,
                  app,
                  device,
                  pushes: used,
                })),
              ),
            ),
          ),
        ),
      ),
    );

    const hour = 3_600_000;
    const month = 30 * 24 * hour;
    const iso = (millis: number): string => new Date(millis).toISOString();
    const instant = fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2030, 0, 1) });
    // A time that has come (up to and including `now`) or one still ahead.
    const endedBy = (at: number) => fc.integer({ min: 0, max: month }).map((d) => iso(at - d));
    const aheadOf = (at: number) => fc.integer({ min: 1, max: month }).map((d) => iso(at + d));

    const bindingFor = (row: Row, at: number): fc.Arbitrary<DeliveryFacts['binding']> => {
      const fixed = { status: row.status, level: row.level, blocked: row.blocked };
      switch (row.mute) {
        case 'none':
          return fc.constant(fixed);
        case 'ended':
          return endedBy(at).map((mutedUntil) => ({ ...fixed, mutedUntil }));
        case 'ahead':
          return aheadOf(at).map((mutedUntil) => ({ ...fixed, mutedUntil }));
        default: {
          const _exhaustive: never = row.mute;
          return _exhaustive;
        }
      }
    };

    const appFor = (row: Row, at: number): fc.Arbitrary<DeliveryFacts['app']> => {
      switch (row.app) {
        case 'active':
          return fc.constant({ status: 'active' });
        case 'banned':
          return fc.constant({ status: 'banned' });
        case 'suspended':
          return fc.oneof(
            fc.constant({ status: 'suspended' } as const),
            aheadOf(at).map((suspendedUntil) => ({ status: 'suspended', suspendedUntil }) as const),
          );
        case 'suspension ended':
          return endedBy(at).map(
            (suspendedUntil) => ({ status: 'suspended', suspendedUntil }) as const,
          );
        default: {
          const _exhaustive: never = row.app;
          return _exhaustive;
        }
      }
    };

    /** [pushes used, budget] in the row's band: budgets from 0 (no pushes at all) to 100. */
    const usageFor = (row: Row): fc.Arbitrary<readonly [number, number]> => {
      switch (row.pushes) {
        case 'below budget':
          return fc
            .integer({ min: 1, max: 100 })
            .chain((budget) =>
              fc.integer({ min: 0, max: budget - 1 }).map((used) => [used, budget] as const),
            );
        case 'at budget':
          return fc.integer({ min: 0, max: 100 }).map((budget) => [budget, budget] as const);
        case 'above budget':
          return fc
            .tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 1, max: 100 }))
            .map(([budget, over]) => [budget + over, budget] as const);
        default: {
          const _exhaustive: never = row.pushes;
          return _exhaustive;
        }
      }
    };

    const deviceChannelsFor = (row: Row): fc.Arbitrary<readonly string[]> =>
      row.device
        ? fc.uniqueArray(fc.constantFrom('bark', 'email', 'sms', 'webpush'), { minLength: 1 })
        : fc.constant([]);

    /** Concrete facts for one row: times, budgets and channel names vary, the row does not. */
    const factsFor = (row: Row): fc.Arbitrary<DeliveryFacts> =>
      instant.chain((at) =>
        fc
          .record({
            binding: bindingFor(row, at),
            app: appFor(row, at),
            deviceChannels: deviceChannelsFor(row),
            usage: usageFor(row),
          })
          .map(({ binding, app, deviceChannels, usage: [used, budget] }) => ({
            binding,
            app,
            deviceChannels,
            devicePushesLastHour: used,
            pushBudgetPerHour: budget,
            now: iso(at),
          })),
      );

    it('covers 2 × 3 × 2 × 3 × 4 × 2 × 3 = 864 combinations', () => {
      expect(rows).to.have.length(864);
      expect(new Set(rows.map((row) => JSON.stringify(row))).size).to.equal(864);
    });

    it('decides every combination as the table says', () => {
      for (const row of rows) {
        const outcome = lookUp(row);
        fc.assert(
          fc.property(factsFor(row), (given) => {
            expect(decideDelivery(given), JSON.stringify(row)).to.deep.equal(
              expectedFor(outcome, given.deviceChannels),
            );
          }),
          { numRuns: 10 },
        );
      }
    });
  });

  describe('properties', () => {
    const instant = fc
      .integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2030, 0, 1) })
      .map((millis) => new Date(millis).toISOString());
    const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

    /** Any facts at all, including device lists that repeat channels or name the inbox. */
    const anyFacts: fc.Arbitrary<DeliveryFacts> = fc
      .record({
        status: fc.constantFrom('active', 'revoked'),
        level: fc.constantFrom('strong', 'weak', 'none'),
        blocked: fc.boolean(),
        mutedUntil: maybe(instant),
        appStatus: fc.constantFrom('active', 'suspended', 'banned'),
        suspendedUntil: maybe(instant),
        deviceChannels: fc.array(fc.constantFrom('bark', 'email', 'inbox', 'sms'), {
          maxLength: 5,
        }),
        devicePushesLastHour: fc.nat({ max: 200 }),
        pushBudgetPerHour: fc.nat({ max: 100 }),
        now: instant,
      })
      .map((f): DeliveryFacts => ({
        binding: {
          status: f.status,
          level: f.level,
          blocked: f.blocked,
          ...(f.mutedUntil === undefined ? {} : { mutedUntil: f.mutedUntil }),
        },
        app:
          f.appStatus === 'suspended' && f.suspendedUntil !== undefined
            ? { status: 'suspended', suspendedUntil: f.suspendedUntil }
            : { status: f.appStatus },
        deviceChannels: f.deviceChannels,
        devicePushesLastHour: f.devicePushesLastHour,
        pushBudgetPerHour: f.pushBudgetPerHour,
        now: f.now,
      }));

    /** Whether an optional end time is still ahead of `at`. */
    const endsAfter = (end: string | undefined, at: string): boolean =>
      end !== undefined && Date.parse(end) > Date.parse(at);

    it("routes to 'inbox' first, each channel once, with a reason exactly when inbox only", () => {
      fc.assert(
        fc.property(anyFacts, (given) => {
          const decision = decideDelivery(given);
          if (decision.kind === 'suppress') return;
          expect(decision.channels[0]).to.equal('inbox');
          expect(RoutedChannels.is(decision.channels)).to.equal(true);
          expect(decision.inboxOnly === undefined).to.equal(decision.channels.length > 1);
        }),
        { numRuns: 2000 },
      );
    });

    it('pushes to a device only for a strong, unmuted, unblocked, active binding under budget of an app in good standing', () => {
      fc.assert(
        fc.property(anyFacts, (given) => {
          const decision = decideDelivery(given);
          const pushes = decision.kind === 'route' && decision.channels.length > 1;
          const { binding, app, now } = given;
          const appMaySend =
            app.status === 'active' ||
            (app.status === 'suspended' &&
              app.suspendedUntil !== undefined &&
              !endsAfter(app.suspendedUntil, now));
          const mayPush =
            binding.status === 'active' &&
            !binding.blocked &&
            binding.level === 'strong' &&
            !endsAfter(binding.mutedUntil, now) &&
            given.devicePushesLastHour < given.pushBudgetPerHour &&
            appMaySend &&
            given.deviceChannels.some((channel) => channel !== 'inbox');
          expect(pushes).to.equal(mayPush);
        }),
        { numRuns: 2000 },
      );
    });

    it('never suppresses for an active, unblocked, strong or weak binding of an active app', () => {
      const welcome = fc
        .tuple(anyFacts, fc.constantFrom('strong', 'weak'))
        .map(([given, level]): DeliveryFacts => ({
          ...given,
          binding: { ...given.binding, status: 'active', blocked: false, level },
          app: { status: 'active' },
        }));
      fc.assert(
        fc.property(welcome, (given) => {
          expect(decideDelivery(given).kind).to.equal('route');
        }),
        { numRuns: 2000 },
      );
    });

    it('answers only reasons a MessageSuppressed or MessageRouted event can record', () => {
      expect(Object.keys(SuppressionReasonCodec.keys)).to.include.members([
        'revoked',
        'level_none',
        'blocked',
        'app_suspended',
        'app_banned',
      ]);
      fc.assert(
        fc.property(anyFacts, (given) => {
          const decision = decideDelivery(given);
          if (decision.kind === 'suppress') {
            expect(SuppressionReasonCodec.is(decision.reason)).to.equal(true);
          } else if (decision.inboxOnly !== undefined) {
            expect(InboxOnlyReasonCodec.is(decision.inboxOnly)).to.equal(true);
          }
        }),
        { numRuns: 2000 },
      );
    });
  });
});
