import { pathToFileURL } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import type { Channel } from '../channels/channel.js';
import { checkChannelDeclaration } from '../channels/declaration.js';
import { guardPluginChannel, type PluginGuardOptions } from '../channels/pluginGuard.js';
import { resolvePluginModule } from './pluginResolution.js';

/** One line, however many the underlying message had (a syntax error quotes source lines). */
const oneLine = (text: string): string => text.split(/\r?\n/)[0]?.trim() ?? '';

const reasonOf = (error: unknown): string =>
  oneLine(error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/**
 * Loads the channel plugins `TIDINGS_CHANNEL_PLUGINS` lists (PLUGINS.md "Loading"), in order:
 * resolves each from the working directory ({@link resolvePluginModule}), imports it, takes its
 * default export, checks the declaration and that its kind is not taken (by a kind in
 * `reserved`, the built-in ones whether configured or not, or by an earlier plugin). The first module that fails answers one line naming
 * it and the reason, which stops the start; otherwise the channels, each wrapped by
 * {@link guardPluginChannel} so it cannot crash or wedge the delivery worker.
 */
export const loadChannelPlugins = async (
  specs: readonly string[],
  cwd: string,
  reserved: readonly string[],
  options: PluginGuardOptions = {},
): Promise<E.Either<string, Channel[]>> => {
  const owners = new Map<string, string>(
    reserved.map((kind) => [kind, `the built-in channel ${kind}`]),
  );
  const loaded: Channel[] = [];
  for (const spec of specs) {
    const refuse = (reason: string): E.Either<string, Channel[]> =>
      E.left(`channel plugin ${spec}: ${reason}`);
    const file = resolvePluginModule(spec, cwd);
    if (E.isLeft(file)) return refuse(file.left);
    let module: { readonly default?: unknown };
    try {
      module = (await import(pathToFileURL(file.right).href)) as { readonly default?: unknown };
    } catch (error) {
      return refuse(`could not be imported (${file.right}): ${reasonOf(error)}`);
    }
    if (module.default === undefined) {
      return refuse(
        'exports no channel as default (export default { kind, name, settings, render, send })',
      );
    }
    const problems = checkChannelDeclaration(module.default);
    if (problems.length > 0) return refuse(`is not a valid channel: ${problems.join('; ')}`);
    const channel = module.default as Channel;
    const owner = owners.get(channel.kind);
    if (owner !== undefined) {
      return refuse(`declares the kind "${channel.kind}", which ${owner} already has`);
    }
    owners.set(channel.kind, `channel plugin ${spec}`);
    loaded.push(guardPluginChannel(channel, options));
  }
  return E.right(loaded);
};
