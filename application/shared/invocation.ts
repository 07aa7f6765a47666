import type { Actor } from '../../domain/shared/eventStore.js';
import type { CommandContext } from '../../domain/shared/commandHandler.js';

/** One call of a use case: when it happens, and how its commands are identified. */
export interface Invocation {
  /** The time of the call (ISO 8601 UTC): the `now` of its commands. */
  readonly now: string;
  /**
   * The context of one command of this call, with the caller as actor unless `actor` is given:
   * with `commandId` for a command a retry must repeat exactly (its events are not written
   * twice), else with a fresh command id.
   */
  commandContext(commandId?: string, actor?: Actor): CommandContext;
}
