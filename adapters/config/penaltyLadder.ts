import type { PenaltyLadder } from '../../domain/reputation/penaltyLadder.js';
import type { Settings } from './settings.js';

/** The penalty ladder the settings describe (TIDINGS_PENALTY_POINTS, TIDINGS_SUSPEND_BELOW, …). */
export const penaltyLadderOf = (settings: Settings): PenaltyLadder => ({
  points: settings.penaltyPoints,
  suspendBelow: settings.suspendBelow,
  banBelow: settings.banBelow,
  maxSuspensions: settings.maxSuspensions,
  suspensionDays: settings.suspensionDays,
});
