import * as E from 'fp-ts/lib/Either.js';
import type { Preferences } from '../../domain/recipient/recipientPreferences.js';
import type { RecipientQueries } from '../../projections/recipients/recipientQueries.js';
import type { CommandBus } from '../commandBus.js';
import type { Invocation } from '../shared/invocation.js';
import type { Refusal } from '../shared/refusal.js';

/** What saving preferences needs. */
export interface PreferencesDeps {
  /** The command bus that waits for the read models: the saved preferences are read back at once. */
  readonly commands: CommandBus;
  readonly recipients: RecipientQueries;
}

/**
 * Saves the person's preferences as a whole (docs/api.md `PUT /v1/me/preferences`) and answers
 * them as stored. Refused with `validation_failed` naming each field that cannot be saved (an
 * unknown time zone, a digest to a device that is not theirs); nothing is written then.
 */
export const setPreferences =
  (deps: PreferencesDeps) =>
  async (
    recipientId: string,
    preferences: Preferences,
    call: Invocation,
  ): Promise<E.Either<Refusal, Preferences>> => {
    const saved = await deps.commands.execute(
      'recipient',
      recipientId,
      { type: 'SetPreferences', data: { recipientId, preferences }, metadata: { now: call.now } },
      call.commandContext(),
    );
    return E.isLeft(saved) ? saved : E.right(deps.recipients.preferences(recipientId));
  };
