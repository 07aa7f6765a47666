import * as E from 'fp-ts/lib/Either.js';
import { recipientStreamName } from '../../domain/recipient/recipientDecider.js';
import { RecipientPreferencesSet } from '../../domain/recipient/recipientEvents.js';
import type { EventStore } from '../../domain/shared/eventStore.js';

/**
 * When the person chose the time of their daily digest as it is now (ISO 8601 UTC), or undefined
 * when the log holds no digest for them: the time of the `RecipientPreferencesSet` that last
 * changed the digest's time or time zone, or turned it on. Saving other preferences (the
 * language, quiet hours, the digest's device) leaves it as it was, since they do not move the
 * digest.
 *
 * The read models keep no such time, so it is read off the person's stream: the digest step
 * asks only for a person with something to sum up at a time that has come, once a day at most.
 */
export const digestChosenAt =
  (store: Pick<EventStore, 'readStream'>) =>
  async (recipientId: string): Promise<string | undefined> => {
    let chosenAt: string | undefined;
    let schedule: string | undefined;
    for (const recorded of await store.readStream(recipientStreamName(recipientId))) {
      if (recorded.type !== 'RecipientPreferencesSet') continue;
      const event = RecipientPreferencesSet.decode({ type: recorded.type, data: recorded.data });
      if (E.isLeft(event)) continue;
      const { digest, timeZone } = event.right.data.preferences;
      const next = digest === null ? undefined : `${timeZone ?? 'UTC'} ${digest.at}`;
      if (next !== schedule)
        chosenAt = next === undefined ? undefined : recorded.metadata.occurredAt;
      schedule = next;
    }
    return chosenAt;
  };
