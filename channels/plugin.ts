/**
 * The public entry point for channel plugin authors: `import type { Channel } from
 * 'tidings/plugin'` (package.json `exports`). It re-exports the channel contract and the ports a
 * channel is handed, and nothing else, so a plugin depends on what this file names and on no
 * internal path (docs/plugins.md "The public entry point").
 */
import type { Channel } from './channel.js';

export type {
  Channel,
  ChannelContext,
  ChannelSetting,
  ChannelSettingType,
  OutgoingMessage,
  RecallTarget,
  RejectionCode,
  SendOutcome,
  SettingValue,
  SettingValues,
} from './channel.js';
export type {
  HttpAnswer,
  HttpClient,
  HttpFailure,
  HttpMethod,
  HttpRefusal,
  HttpRequest,
  HttpResult,
  HttpTimeout,
  RefusalReason,
} from './httpClient.js';
export type { LogFields, Logger } from '../domain/shared/logger.js';
export { checkChannelDeclaration } from './declaration.js';

/**
 * Returns its argument: it exists so TypeScript infers a channel's settings and rendered types
 * from its `render` and checks the rest against {@link Channel}, without a type annotation.
 *
 * @example
 * export default defineChannel({ kind: 'matrix', name: 'Matrix room', settings: [], render, send });
 */
export const defineChannel = <Settings, Rendered>(
  channel: Channel<Settings, Rendered>,
): Channel<Settings, Rendered> => channel;
