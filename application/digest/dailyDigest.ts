import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { Logger } from '../../domain/shared/logger.js';
import type { DigestQueries } from '../../projections/messages/digestQueries.js';
import type { MessageQueries } from '../../projections/messages/messageQueries.js';
import type {
  DigestSchedule,
  DigestSubscriber,
  DigestSubscriberQueries,
  RecipientQueries,
} from '../../projections/recipients/recipientQueries.js';
import { chooseLocale } from '../i18n/chooseLocale.js';
import { forEachConcurrently } from '../processing/concurrency.js';
import type { Ids } from '../shared/ids.js';
import type { Invocation } from '../shared/invocation.js';
import { sendSystemMessage, type SystemAppDeps } from '../systemApp/systemAppMessage.js';
import {
  DIGEST_MAX_LATENESS_MS,
  digestWindow,
  dueDigestOccurrence,
  isChosenBy,
  type DigestOccurrence,
} from './digestSchedule.js';
import { DIGEST_MAX_HEADLINES, digestText } from './digestText.js';

/** What sending the daily digests needs: the built-in app's (application/systemApp), and these. */
export interface DailyDigestDeps extends SystemAppDeps {
  /** Who chose a digest, and when. */
  readonly subscribers: DigestSubscriberQueries;
  readonly recipients: Pick<RecipientQueries, 'device'>;
  readonly digests: DigestQueries;
  readonly messages: Pick<MessageQueries, 'byId'>;
  /** When the person chose their digest's time as it is now (digestChosenAt.ts). */
  readonly chosenAt: (recipientId: string) => Promise<string | undefined>;
  /** `TIDINGS_PUBLIC_URL`: the digest links to the inbox under it. */
  readonly publicUrl: string;
  readonly logger: Logger;
  /** People looked at per run; the next tick goes on with the rest. Default 200. */
  readonly batch?: number;
}

/** The thread every digest is in, so a device shows them together. */
export const DIGEST_THREAD = 'tidings-digest';

const ACTOR = { kind: 'system', id: 'digest' } as const;

/**
 * The id of a person's digest of one day (`YYYY-MM-DD` in their zone): derived, so every tick,
 * node and restart that finds it due names the same message, and the Message aggregate takes the
 * second submission as a no-op (or refuses it as `already_exists` if its words came out
 * otherwise). One digest a day, whatever the person changes meanwhile.
 */
export const digestMessageId = (
  ids: Pick<Ids, 'derived'>,
  recipientId: string,
  date: string,
): string => ids.derived('msg_', DIGEST_THREAD, recipientId, date);

/** Whether one person's digest is settled for the occurrence, or to be tried again. */
type Outcome = 'settled' | 'retry';

/**
 * The scheduler's step that sends the daily digests (docs/api.md "Preferences"): once a day at
 * the person's `digest.at` in their time zone (UTC when they chose none), one summary of the weak
 * messages that reached their inbox since the day before's digest time (digestSchedule.ts
 * `digestWindow`), from the built-in app "Tidings"
 * through the whole pipeline to the device they chose (`deviceId` on the message), in their
 * language, and only if there were any. Due is the latest occurrence of the time, if it is at
 * most 12 hours ago and not before the person chose the time.
 *
 * The scheduler ticks every second; this looks once a minute (and at the next tick while a run
 * left people over): it reads the few distinct schedules, and the people of a schedule only when
 * its time has come and not all of them were settled yet. What was settled (sent, nothing to
 * sum up, not chosen in time, no such device) is remembered in memory until it can no longer
 * be due, so an empty day is not read again every minute; after a restart the derived message
 * id makes a digest already sent a cheap lookup.
 */
export const dailyDigests = (deps: DailyDigestDeps): ((now: Date) => Promise<void>) => {
  /** By occurrence (its instant): the people settled for it. */
  const settled = new Map<string, Set<string>>();
  /** By schedule: the occurrence all of its people were settled for. */
  const finished = new Map<string, string>();
  let lastMinute: number | undefined;
  let leftOver = false;

  const forget = (now: string): void => {
    // An occurrence further back than the lateness allows is never due again.
    const horizon = Date.parse(now) - DIGEST_MAX_LATENESS_MS - 60_000;
    for (const occurrence of settled.keys()) {
      if (Date.parse(occurrence) < horizon) settled.delete(occurrence);
    }
    for (const [schedule, occurrence] of finished) {
      if (Date.parse(occurrence) < horizon) finished.delete(schedule);
    }
  };

  return async (now) => {
    const minute = Math.floor(now.getTime() / 60_000);
    if (minute === lastMinute && !leftOver) return;
    lastMinute = minute;
    leftOver = false;
    const at = now.toISOString();
    forget(at);
    let budget = deps.batch ?? 200;
    for (const schedule of deps.subscribers.digestSchedules()) {
      const occurrence = dueDigestOccurrence(schedule.at, schedule.timeZone ?? 'UTC', at);
      if (occurrence === undefined) continue;
      const key = scheduleKey(schedule);
      if (finished.get(key) === occurrence.at) continue;
      if (budget === 0) {
        leftOver = true;
        return;
      }
      const done = settled.get(occurrence.at) ?? new Set<string>();
      settled.set(occurrence.at, done);
      const waiting = deps.subscribers
        .digestsAt(schedule)
        .filter((person) => !done.has(person.recipientId));
      const taken = waiting.slice(0, budget);
      budget -= taken.length;
      await forEachConcurrently(taken, 8, async (person) => {
        if ((await digestOf(deps, person, occurrence, at)) === 'settled') {
          done.add(person.recipientId);
        }
      });
      if (taken.length < waiting.length) leftOver = true;
      // One to try again keeps the schedule open: the next minute reads its people again.
      else if (taken.every((person) => done.has(person.recipientId))) {
        finished.set(key, occurrence.at);
      }
    }
  };
};

const scheduleKey = ({ timeZone, at }: DigestSchedule): string => `${timeZone ?? ''} ${at}`;

/**
 * The commands of one digest: at the tick's time, as the system's digest step. The submission
 * names its own derived command id; the system app's registration and binding, written only when
 * missing, get fresh ones.
 */
const invocationAt = (now: string): Invocation => ({
  now,
  commandContext: (commandId, actor) => ({
    commandId: commandId ?? `digest:${randomUUID()}`,
    actor: actor ?? ACTOR,
  }),
});

/** Sends one person's digest for `occurrence` if it is due and has anything to say. */
const digestOf = async (
  deps: DailyDigestDeps,
  person: DigestSubscriber,
  occurrence: DigestOccurrence,
  now: string,
): Promise<Outcome> => {
  const { recipientId, preferences } = person;
  const { deviceId } = preferences.digest;
  const fields = { recipientId, date: occurrence.date };
  try {
    const messageId = digestMessageId(deps.ids, recipientId, occurrence.date);
    if (deps.messages.byId(messageId) !== undefined) return 'settled';
    const { from, until } = digestWindow(
      occurrence,
      preferences.digest.at,
      preferences.timeZone ?? 'UTC',
    );
    const apps = deps.digests.weakMessages(recipientId, from, until, DIGEST_MAX_HEADLINES);
    if (apps.length === 0) return 'settled';
    // Read last, from the log: only for a person with something to sum up.
    if (!isChosenBy(occurrence, await deps.chosenAt(recipientId))) return 'settled';
    if (deps.recipients.device(recipientId, deviceId) === undefined) {
      deps.logger.info('daily digest skipped: its device no longer exists', {
        ...fields,
        deviceId,
      });
      return 'settled';
    }
    const inboxUrl = `${deps.publicUrl.replace(/\/+$/u, '')}/inbox`;
    const { title, body } = digestText(
      chooseLocale({ preference: preferences.locale }),
      apps,
      inboxUrl,
    );
    const sent = await sendSystemMessage(
      deps,
      {
        messageId,
        recipientId,
        title,
        body,
        url: inboxUrl,
        thread: DIGEST_THREAD,
        // A digest sums up what the person chose not to be interrupted by: it lands quietly in
        // the device's list (Bark's passive level: no sound, the screen stays dark).
        level: 'passive',
        deviceId,
      },
      invocationAt(now),
      `digest:${messageId}`,
    );
    if (E.isRight(sent)) {
      deps.logger.info('daily digest sent', { ...fields, messageId, status: sent.right.status });
      return 'settled';
    }
    // This day's digest is there already (sent by another node, or by an earlier run in other
    // words): settled. Any other refusal (a race on the built-in app's first registration, a
    // conflict) is tried again the next minute.
    if (sent.left.code === 'already_exists' && deps.messages.byId(messageId) !== undefined) {
      return 'settled';
    }
    deps.logger.warn('daily digest refused; the next minute tries again', {
      ...fields,
      code: sent.left.code,
      reason: sent.left.message,
    });
    return 'retry';
  } catch (error) {
    deps.logger.error('daily digest failed; the next minute tries again', { ...fields, error });
    return 'retry';
  }
};
