import { expect } from 'chai';
import { quietHoursEndAt } from '../../../domain/recipient/quietHours.js';
import { instantOfLocalClock } from '../../../domain/shared/zonedTime.js';

const NIGHT = { start: '22:00', end: '07:00', allowTimeSensitive: false };
const EARLY = { start: '01:00', end: '02:30', allowTimeSensitive: false };
const DAY = { start: '09:00', end: '17:30', allowTimeSensitive: false };

/**
 * Quiet hours read by the wall clock of the person's zone (issue 18): across midnight, and across
 * the daylight-saving changes of the zones that have them. Each row: the quiet hours, the zone,
 * the instant of a message (UTC) and when its push may go (UTC), or `null` for "now".
 */
const CASES: readonly {
  readonly what: string;
  readonly quiet: typeof NIGHT;
  readonly zone: string;
  readonly at: string;
  readonly endsAt: string | null;
}[] = [
  // Asia/Shanghai: UTC+8 all year.
  {
    what: 'Shanghai 23:00, before midnight',
    quiet: NIGHT,
    zone: 'Asia/Shanghai',
    at: '2027-01-10T15:00:00Z',
    endsAt: '2027-01-10T23:00:00.000Z',
  },
  {
    what: 'Shanghai 03:00, after midnight',
    quiet: NIGHT,
    zone: 'Asia/Shanghai',
    at: '2027-01-10T19:00:00Z',
    endsAt: '2027-01-10T23:00:00.000Z',
  },
  {
    what: 'Shanghai 22:00 sharp is inside',
    quiet: NIGHT,
    zone: 'Asia/Shanghai',
    at: '2027-01-10T14:00:00Z',
    endsAt: '2027-01-10T23:00:00.000Z',
  },
  {
    what: 'Shanghai 07:00 sharp is outside',
    quiet: NIGHT,
    zone: 'Asia/Shanghai',
    at: '2027-01-10T23:00:00Z',
    endsAt: null,
  },
  {
    what: 'Shanghai 21:59 is outside',
    quiet: NIGHT,
    zone: 'Asia/Shanghai',
    at: '2027-01-10T13:59:00Z',
    endsAt: null,
  },
  {
    what: 'Shanghai daytime span, 12:00',
    quiet: DAY,
    zone: 'Asia/Shanghai',
    at: '2027-01-10T04:00:00Z',
    endsAt: '2027-01-10T09:30:00.000Z',
  },
  {
    what: 'Shanghai daytime span, 18:00',
    quiet: DAY,
    zone: 'Asia/Shanghai',
    at: '2027-01-10T10:00:00Z',
    endsAt: null,
  },
  // Europe/Berlin: CET (UTC+1), CEST (UTC+2) from 2027-03-28 02:00 to 2027-10-31 03:00.
  {
    what: 'Berlin winter night',
    quiet: NIGHT,
    zone: 'Europe/Berlin',
    at: '2027-01-10T22:00:00Z',
    endsAt: '2027-01-11T06:00:00.000Z',
  },
  {
    what: 'Berlin night into summer time (07:00 CEST)',
    quiet: NIGHT,
    zone: 'Europe/Berlin',
    at: '2027-03-27T22:00:00Z',
    endsAt: '2027-03-28T05:00:00.000Z',
  },
  {
    what: 'Berlin night into winter time (07:00 CET)',
    quiet: NIGHT,
    zone: 'Europe/Berlin',
    at: '2027-10-30T21:00:00Z',
    endsAt: '2027-10-31T06:00:00.000Z',
  },
  {
    what: 'Berlin end 02:30 skipped in spring: at 03:00 CEST',
    quiet: EARLY,
    zone: 'Europe/Berlin',
    at: '2027-03-28T00:30:00Z',
    endsAt: '2027-03-28T01:00:00.000Z',
  },
  {
    what: 'Berlin end 02:30 read twice in autumn: the first',
    quiet: EARLY,
    zone: 'Europe/Berlin',
    at: '2027-10-30T23:30:00Z',
    endsAt: '2027-10-31T00:30:00.000Z',
  },
  {
    what: 'Berlin repeated hour after the first 02:30 is outside',
    quiet: EARLY,
    zone: 'Europe/Berlin',
    at: '2027-10-31T01:00:00Z',
    endsAt: null,
  },
  // America/New_York: EST (UTC−5), EDT (UTC−4) from 2027-03-14 02:00 to 2027-11-07 02:00.
  {
    what: 'New York night into daylight time',
    quiet: NIGHT,
    zone: 'America/New_York',
    at: '2027-03-14T04:00:00Z',
    endsAt: '2027-03-14T11:00:00.000Z',
  },
  {
    what: 'New York night into standard time',
    quiet: NIGHT,
    zone: 'America/New_York',
    at: '2027-11-07T03:00:00Z',
    endsAt: '2027-11-07T12:00:00.000Z',
  },
  {
    what: 'New York evening outside',
    quiet: NIGHT,
    zone: 'America/New_York',
    at: '2027-06-01T00:00:00Z',
    endsAt: null,
  },
  {
    what: 'UTC when no zone was chosen',
    quiet: NIGHT,
    zone: 'UTC',
    at: '2027-06-01T23:30:00Z',
    endsAt: '2027-06-02T07:00:00.000Z',
  },
];

describe('quiet hours in the person’s time zone', () => {
  for (const row of CASES) {
    it(`${row.what}: ${row.endsAt === null ? 'push now' : `push at ${row.endsAt}`}`, () => {
      expect(quietHoursEndAt(row.quiet, row.zone, row.at) ?? null).to.equal(row.endsAt);
    });
  }

  it('finds a local clock time on a normal day, a skipped one and a repeated one', () => {
    expect(
      instantOfLocalClock('Europe/Berlin', { year: 2027, month: 6, day: 1 }, '08:15'),
    ).to.equal('2027-06-01T06:15:00.000Z');
    expect(
      instantOfLocalClock('America/New_York', { year: 2027, month: 3, day: 14 }, '02:30'),
    ).to.equal('2027-03-14T07:00:00.000Z');
    expect(
      instantOfLocalClock('America/New_York', { year: 2027, month: 11, day: 7 }, '01:30'),
    ).to.equal('2027-11-07T05:30:00.000Z');
  });
});
