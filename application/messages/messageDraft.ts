import { MAX_SCHEDULE_DAYS } from '../../domain/message/messageDecider.js';

/** The longest `delaySeconds` (and how far ahead a `deliverAt` may be). */
export const MAX_DELAY_SECONDS = MAX_SCHEDULE_DAYS * 24 * 60 * 60;

/** One message as an app sends it, decoded at the edge (docs/api.md `POST /v1/messages`). */
export interface MessageDraft {
  readonly body: string;
  /** The binding key from the consent redirect; exactly one of `key` and `openid`. */
  readonly key?: string;
  /** The app's own id of the person. */
  readonly openid?: string;
  readonly title?: string;
  readonly subtitle?: string;
  readonly url?: string;
  readonly thread?: string;
  readonly level?: 'active' | 'timeSensitive' | 'passive';
  /** At most one of `deliverAt` and `delaySeconds`. */
  readonly deliverAt?: string;
  readonly delaySeconds?: number;
}

/** A field of a draft that is not acceptable, with its path inside the draft (`/deliverAt`). */
export interface DraftProblem {
  readonly path: string;
  readonly message: string;
}

/** The problems of a draft beyond its codec: one target, one time, not in the past. */
export const draftProblems = (draft: MessageDraft, now: string): DraftProblem[] => {
  const problems: DraftProblem[] = [];
  if ((draft.key === undefined) === (draft.openid === undefined)) {
    problems.push({ path: '/key', message: 'give exactly one of key or openid' });
  }
  if (draft.deliverAt !== undefined && draft.delaySeconds !== undefined) {
    problems.push({ path: '/deliverAt', message: 'give at most one of deliverAt or delaySeconds' });
  }
  if (draft.deliverAt !== undefined) {
    const time = Date.parse(draft.deliverAt);
    if (time < Date.parse(now)) problems.push({ path: '/deliverAt', message: 'is in the past' });
    if (time > Date.parse(now) + MAX_DELAY_SECONDS * 1000) {
      problems.push({
        path: '/deliverAt',
        message: `is more than ${MAX_SCHEDULE_DAYS} days ahead`,
      });
    }
  }
  return problems;
};

/** When a draft is to be delivered: its `deliverAt`, or its delay counted from `from`; else now. */
export const deliveryTimeOf = (draft: MessageDraft, from: string): string | undefined =>
  draft.deliverAt !== undefined
    ? new Date(draft.deliverAt).toISOString()
    : draft.delaySeconds !== undefined && draft.delaySeconds > 0
      ? new Date(Date.parse(from) + draft.delaySeconds * 1000).toISOString()
      : undefined;
