import * as t from 'io-ts';
import { NonNegativeInt, PositiveInt } from '../shared/codecs.js';

/** How serious an operator judged an upheld complaint. */
export type ComplaintSeverity = 'minor' | 'major' | 'severe';

/**
 * The reputation rules (README, "Complaints and penalties"). Every app starts at 100 points; an
 * upheld complaint costs points by severity; below `suspendBelow` the app is suspended for
 * `suspensionDays`, and recovers to `suspendBelow` points when the suspension ends; the
 * `maxSuspensions`-th suspension for the score (not one pending review after a surge or an
 * operator's decision), or falling below `banBelow`, bans it for good.
 */
export const PenaltyLadder = t.type({
  points: t.type({ minor: PositiveInt, major: PositiveInt, severe: PositiveInt }),
  suspendBelow: NonNegativeInt,
  banBelow: NonNegativeInt,
  maxSuspensions: PositiveInt,
  suspensionDays: PositiveInt,
});
export type PenaltyLadder = t.TypeOf<typeof PenaltyLadder>;

export const defaultPenaltyLadder: PenaltyLadder = {
  points: { minor: 5, major: 15, severe: 30 },
  suspendBelow: 60,
  banBelow: 20,
  maxSuspensions: 3,
  suspensionDays: 7,
};
