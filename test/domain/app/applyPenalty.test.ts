import type { AppCommand } from '../../../domain/app/appCommands.js';
import { appDecider } from '../../../domain/app/appDecider.js';
import type { AppEvent } from '../../../domain/app/appEvents.js';
import {
  defaultPenaltyLadder,
  type ComplaintSeverity,
} from '../../../domain/reputation/penaltyLadder.js';
import { spec } from '../deciderSpecification.js';

const now = '2025-03-01T12:00:00.000Z';
const appId = 'app-1';
const registered: AppEvent = {
  type: 'AppRegistered',
  data: { appId, name: 'Orders', redirectUris: ['https://o.example/cb'], secretHash: 'h' },
};
/** History that brings the score to `score` (from 100) through one earlier complaint. */
const scoredAt = (score: number): AppEvent[] =>
  score === 100
    ? []
    : [
        {
          type: 'AppPenalized',
          data: {
            appId,
            points: 100 - score,
            scoreAfter: score,
            complaintIds: ['old'],
            reason: 'earlier',
          },
        },
      ];
const suspension = (n: number): AppEvent[] => [
  {
    type: 'AppSuspended',
    data: {
      appId,
      until: '2025-01-08T00:00:00.000Z',
      reason: 'score_below_threshold',
      complaintIds: [`s${n}`],
    },
  },
  { type: 'AppSuspensionLifted', data: { appId, reason: 'expired', scoreAfter: 60 } },
];
const apply = (severity: ComplaintSeverity, complaintId = 'c-new'): AppCommand => ({
  type: 'ApplyPenalty',
  data: { appId, complaintId, severity, ladder: defaultPenaltyLadder },
  metadata: { now },
});
const penalty = (points: number, scoreAfter: number, severity: ComplaintSeverity): AppEvent => ({
  type: 'AppPenalized',
  data: {
    appId,
    points,
    scoreAfter,
    complaintIds: ['c-new'],
    reason: `${severity} complaint upheld`,
  },
});
const suspendedFor7Days: AppEvent = {
  type: 'AppSuspended',
  data: {
    appId,
    until: '2025-03-08T12:00:00.000Z',
    reason: 'score_below_threshold',
    complaintIds: ['c-new'],
  },
};
const bannedFor = (reason: 'score_below_threshold' | 'repeated_suspensions'): AppEvent => ({
  type: 'AppBanned',
  data: { appId, reason, complaintIds: ['c-new'] },
});

/** The penalty ladder (defaults: minor 5, major 15, severe 30; suspend below 60; ban below 20 or at the 3rd suspension). */
describe('the penalty ladder (ApplyPenalty)', () => {
  const app = spec(appDecider);
  const table: ReadonlyArray<{
    name: string;
    history: AppEvent[];
    severity: ComplaintSeverity;
    expected: AppEvent[];
  }> = [
    {
      name: 'minor at 100 → 95, nothing else',
      history: [],
      severity: 'minor',
      expected: [penalty(5, 95, 'minor')],
    },
    {
      name: 'major at 100 → 85',
      history: [],
      severity: 'major',
      expected: [penalty(15, 85, 'major')],
    },
    {
      name: 'minor at 65 → 60: at the line, not below it',
      history: scoredAt(65),
      severity: 'minor',
      expected: [penalty(5, 60, 'minor')],
    },
    {
      name: 'minor at 62 → 57: suspended for 7 days',
      history: scoredAt(62),
      severity: 'minor',
      expected: [penalty(5, 57, 'minor'), suspendedFor7Days],
    },
    {
      name: 'severe at 100 → 70, then major at 70 → 55: suspended',
      history: scoredAt(70),
      severity: 'major',
      expected: [penalty(15, 55, 'major'), suspendedFor7Days],
    },
    {
      name: 'second suspension is still a suspension',
      history: [...suspension(1), ...scoredAt(61)],
      severity: 'minor',
      expected: [penalty(5, 56, 'minor'), suspendedFor7Days],
    },
    {
      name: 'the third suspension becomes a permanent ban',
      history: [...suspension(1), ...suspension(2), ...scoredAt(61)],
      severity: 'minor',
      expected: [penalty(5, 56, 'minor'), bannedFor('repeated_suspensions')],
    },
    {
      name: 'below 20 points: banned at once, whatever the suspensions',
      history: scoredAt(45),
      severity: 'severe',
      expected: [penalty(30, 15, 'severe'), bannedFor('score_below_threshold')],
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      app
        .given([registered, ...row.history])
        .when(apply(row.severity))
        .then(row.expected);
    });
  }

  it('while suspended, a penalty only costs points (no second suspension)', () => {
    app
      .given([registered, ...scoredAt(57), suspendedFor7Days])
      .when(apply('minor'))
      .then([penalty(5, 52, 'minor')]);
  });

  /** Suspended by a complaint surge until a day from now. */
  const surgeSuspended: AppEvent = {
    type: 'AppSuspended',
    data: {
      appId,
      until: '2025-03-02T12:00:00.000Z',
      reason: 'complaint_surge',
      complaintIds: ['surge'],
    },
  };

  it('while suspended for a shorter time, falling below the line extends to a full suspension', () => {
    app
      .given([registered, ...scoredAt(62), surgeSuspended])
      .when(apply('minor'))
      .then([penalty(5, 57, 'minor'), suspendedFor7Days]);
  });

  it('a suspension pending review turned into one for the score is a strike: the third bans', () => {
    app
      .given([registered, ...suspension(1), ...suspension(2), ...scoredAt(62), surgeSuspended])
      .when(apply('minor'))
      .then([penalty(5, 57, 'minor'), bannedFor('repeated_suspensions')]);
  });

  it('suspensions pending review are no strikes: after two reinstated surges, the score suspends', () => {
    const reviewed: AppEvent[] = [
      surgeSuspended,
      { type: 'AppReinstated', data: { appId, scoreAfter: 100 } },
    ];
    app
      .given([registered, ...reviewed, ...reviewed, ...scoredAt(62)])
      .when(apply('minor'))
      .then([penalty(5, 57, 'minor'), suspendedFor7Days]);
  });

  it('keeps a longer suspension pending review, now for the score', () => {
    const longSurge: AppEvent = {
      type: 'AppSuspended',
      data: {
        appId,
        until: '2025-04-01T00:00:00.000Z',
        reason: 'complaint_surge',
        complaintIds: ['surge'],
      },
    };
    app
      .given([registered, ...scoredAt(62), longSurge])
      .when(apply('minor'))
      .then([
        penalty(5, 57, 'minor'),
        {
          type: 'AppSuspended',
          data: {
            appId,
            until: '2025-04-01T00:00:00.000Z',
            reason: 'score_below_threshold',
            complaintIds: ['c-new'],
          },
        },
      ]);
  });

  it('a banned app keeps losing points for the record, and stays banned', () => {
    app
      .given([registered, ...scoredAt(15), bannedFor('score_below_threshold')])
      .when(apply('minor'))
      .then([penalty(5, 10, 'minor')]);
  });

  it('charges each complaint once: a redelivered uphold changes nothing', () => {
    app
      .given([registered, penalty(5, 95, 'minor')])
      .when(apply('minor'))
      .thenNothing();
  });

  it('recovers the score to the floor when a suspension expires, judged on the score now', () => {
    const lift = (recoverTo: number): AppCommand => ({
      type: 'LiftAppSuspension',
      data: { appId, reason: 'expired', recoverTo },
      metadata: { now },
    });
    const suspendedEarlier: AppEvent = {
      ...suspendedFor7Days,
      data: { ...suspendedFor7Days.data, until: '2025-02-28T00:00:00.000Z' },
    };
    app
      .given([registered, ...scoredAt(52), suspendedEarlier])
      .when(lift(60))
      .then([{ type: 'AppSuspensionLifted', data: { appId, reason: 'expired', scoreAfter: 60 } }]);
    app
      .given([registered, ...scoredAt(75), suspendedEarlier])
      .when(lift(60))
      .then([{ type: 'AppSuspensionLifted', data: { appId, reason: 'expired', scoreAfter: 75 } }]);
  });

  it('an operator reinstatement recovers to the floor too, and records the note', () => {
    app
      .given([registered, ...scoredAt(10), bannedFor('score_below_threshold')])
      .when({
        type: 'ReinstateApp',
        data: { appId, note: 'appeal', recoverTo: 60 },
        metadata: { now },
      })
      .then([{ type: 'AppReinstated', data: { appId, scoreAfter: 60, note: 'appeal' } }]);
  });

  it('refuses an app that does not exist', () => {
    app.given([]).when(apply('minor')).thenError('not_found');
  });
});
