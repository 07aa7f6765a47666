import type { Channel } from './channel.js';

/** The channels a Tidings instance can deliver through, by kind. */
export interface ChannelRegistry {
  get(kind: string): Channel | undefined;
  readonly kinds: readonly string[];
}

/**
 * Builds the registry from a list of channels. Two channels of the same kind would make routing
 * ambiguous, so that is refused at start-up with both named; kinds must be short lowercase names
 * because they appear in URLs, metrics labels and events.
 */
export const createChannelRegistry = (channels: readonly Channel[]): ChannelRegistry => {
  const byKind = new Map<string, Channel>();
  for (const channel of channels) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(channel.kind)) {
      throw new Error(
        `channel kind "${channel.kind}" must be 1-32 lowercase letters, digits or dashes`,
      );
    }
    if (byKind.has(channel.kind)) {
      throw new Error(
        `two channels declare the kind "${channel.kind}"; each kind may be registered once`,
      );
    }
    byKind.set(channel.kind, channel);
  }
  return { get: (kind) => byKind.get(kind), kinds: [...byKind.keys()] };
};
