import type { Channel } from './channel.js';
import { checkChannelDeclaration } from './declaration.js';

/** The channels a Tidings instance can deliver through, by kind. */
export interface ChannelRegistry {
  get(kind: string): Channel | undefined;
  readonly kinds: readonly string[];
}

/** How a channel is named in a message: its kind when it has a usable one. */
const labelOf = (channel: unknown, index: number): string => {
  const kind = (channel as { kind?: unknown } | null)?.kind;
  return typeof kind === 'string' && kind !== '' ? `channel "${kind}"` : `channel #${index + 1}`;
};

/**
 * Builds the registry from a list of channels. Each must pass {@link checkChannelDeclaration}
 * (refused with the channel and its first problem named: a plugin is plain JavaScript, so its
 * shape is checked here rather than trusted). Two channels of the same kind would make routing
 * ambiguous, so that is refused at start-up with the kind named; kinds must be short lowercase
 * names because they appear in URLs, metrics labels and events.
 */
export const createChannelRegistry = (channels: readonly Channel[]): ChannelRegistry => {
  const byKind = new Map<string, Channel>();
  channels.forEach((channel, index) => {
    const [problem] = checkChannelDeclaration(channel);
    if (problem !== undefined) throw new Error(`${labelOf(channel, index)}: ${problem}`);
    if (byKind.has(channel.kind)) {
      throw new Error(
        `two channels declare the kind "${channel.kind}"; each kind may be registered once`,
      );
    }
    byKind.set(channel.kind, channel);
  });
  return { get: (kind) => byKind.get(kind), kinds: [...byKind.keys()] };
};
