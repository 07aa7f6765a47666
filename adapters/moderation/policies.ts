import axios from 'axios';
import type { Settings } from '../config/settings.js';
import type { ModerationPolicy } from '../../domain/moderation/policy.js';
import { limitsPolicy } from '../../domain/moderation/limitsPolicy.js';
import { denylistPolicy } from '../../domain/moderation/denylistPolicy.js';
import { loadDenylist } from './denylistFile.js';
import { wechatMsgSecCheckPolicy } from './wechatPolicy.js';

/**
 * The moderation chain from the settings, cheapest first: limits, the denylist (the configured
 * file or the bundled list), then WeChat's checker when its app id and secret are set. The
 * checker's address is the operator's own setting, not user input, so it uses a plain client
 * rather than the SSRF-guarded one.
 */
export const moderationPolicies = async (
  settings: Pick<
    Settings,
    'moderationDenylist' | 'wechatAppId' | 'wechatAppSecret' | 'wechatApiBase'
  >,
): Promise<ModerationPolicy[]> => {
  const policies: ModerationPolicy[] = [
    limitsPolicy(),
    denylistPolicy(await loadDenylist(settings.moderationDenylist)),
  ];
  if (settings.wechatAppId !== undefined && settings.wechatAppSecret !== undefined) {
    policies.push(
      wechatMsgSecCheckPolicy({
        appId: settings.wechatAppId,
        appSecret: settings.wechatAppSecret,
        apiBase: settings.wechatApiBase,
        http: axios.create({ timeout: 5_000, maxRedirects: 0 }),
      }),
    );
  }
  return policies;
};
