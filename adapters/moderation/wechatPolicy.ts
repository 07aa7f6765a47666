/**
 * An optional external moderation policy: WeChat's `security.msgSecCheck` (v2), called over axios.
 *
 * - Access token: `GET {apiBase}/cgi-bin/token?grant_type=client_credential&appid=…&secret=…`,
 *   cached until shortly before it expires (5 minutes, or half its life when that is shorter),
 *   fetched once for any number of concurrent checks (single flight), and fetched anew when the
 *   API calls it invalid (errcode 40001, also 40014 and 42001), after which the check is retried
 *   once.
 * - Check: `POST {apiBase}/wxa/msg_sec_check?access_token=…` with
 *   `{ version: 2, openid, scene, content }`; `content` is the title, subtitle and body joined by
 *   line breaks. A longer text than the API's 2,500 characters is checked in pieces of 2,500
 *   that overlap by 100 (so a phrase across a boundary is seen whole), one request each, and
 *   every piece must pass: the first risky piece rejects, otherwise the first doubtful one holds.
 * - Verdicts: `pass` → pass; `review` → hold, reason naming the label; `risky` → reject with the
 *   label (`20008`) and its name (`fraud`) in the reason.
 * - Unavailable checker — busy (errcode -1), an HTTP error status, no connection, a timeout, an
 *   answer that is not the documented shape, a token endpoint that refuses, any other errcode —
 *   → hold with a reason starting `checker unavailable`. Never pass: a message the checker could
 *   not see goes to an operator, not to the recipient.
 *
 * Why some messages pass unchecked: msgSecCheck v2 judges text on behalf of a WeChat user, the
 * `openid` of someone who opened the mini-program in the last two hours. A message for a recipient
 * Tidings has no openid for (most of them: apps push to people, not to WeChat sessions), or one the
 * API refuses to judge for this user (errcode 40003 bad openid, 43104 appid/openid mismatch), is
 * outside what this checker can judge at all. Holding all of those would send most of the traffic
 * to operators, so this policy passes them and leaves the decision to the rest of the chain: it is
 * optional and is never the only policy (the denylist and limits policies always run, before it).
 * A message with no text at all passes for the same reason.
 *
 * Reasons never contain the app secret or the access token.
 */
import axios, { isAxiosError } from 'axios';
import type { AxiosInstance, AxiosResponse } from 'axios';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import type {
  ModerationInput,
  ModerationPolicy,
  PolicyVerdict,
} from '../../domain/moderation/policy.js';
import { PASS } from '../../domain/moderation/policy.js';

/** The documented msgSecCheck labels and what they mean. */
export const WECHAT_LABELS: Readonly<Record<string, string>> = {
  '100': 'normal',
  '10001': 'advertising',
  '20001': 'politics',
  '20002': 'pornography',
  '20003': 'abuse',
  '20006': 'illegal',
  '20008': 'fraud',
  '20012': 'vulgar',
  '20013': 'copyright',
  '21000': 'other',
};

/** `20008 (fraud)`; an undocumented label shows as `(unknown label)`. */
export const describeLabel = (label: string): string =>
  `${label} (${WECHAT_LABELS[label] ?? 'unknown label'})`;

/** The API's limit on `content`, in characters. */
export const MAX_CONTENT_CHARACTERS = 2500;
/** Characters each piece of a longer text shares with the next (longer than any listed phrase). */
const PIECE_OVERLAP = 100;

/** errcodes that mean "this access token is not (or no longer) valid": refresh and retry once. */
const TOKEN_REFUSED = new Set([40001, 40014, 42001]);
/** errcodes that mean "this checker cannot judge for this user": pass, see the module comment. */
const CANNOT_JUDGE = new Set([40003, 43104]);
const BUSY = -1;

export interface WechatMsgSecCheckOptions {
  /** The mini-program's app id. */
  readonly appId: string;
  /** The mini-program's app secret. */
  readonly appSecret: string;
  /** Default `https://api.weixin.qq.com`. */
  readonly apiBase?: string | undefined;
  /** The axios instance to call with; default: a new one (no redirects, 1 MiB answers). */
  readonly http?: AxiosInstance | undefined;
  /** The clock, in epoch milliseconds; default `Date.now`. */
  readonly now?: (() => number) | undefined;
  /** 1 profile, 2 comment, 3 forum, 4 social log; default 1. */
  readonly scene?: 1 | 2 | 3 | 4 | undefined;
  /** Time limit of each request; default 5000 ms. */
  readonly timeoutMs?: number | undefined;
  /** The policy's name in outcomes; default `wechat`. */
  readonly name?: string | undefined;
}

const ErrorAnswer = t.intersection([
  t.type({ errcode: t.number }),
  t.partial({ errmsg: t.string }),
]);
const TokenAnswer = t.type({ access_token: t.string, expires_in: t.number });
const CheckAnswer = t.intersection([
  t.type({ errcode: t.number }),
  t.partial({
    errmsg: t.string,
    result: t.type({
      suggest: t.keyof({ pass: null, review: null, risky: null }),
      label: t.union([t.number, t.string]),
    }),
  }),
]);
type CheckAnswer = t.TypeOf<typeof CheckAnswer>;

/** The policy {@link wechatMsgSecCheckPolicy} makes: its checks are always asynchronous. */
export interface WechatMsgSecCheckPolicy extends ModerationPolicy {
  check(input: ModerationInput): Promise<PolicyVerdict>;
}

/** Why the checker could not give a verdict; the message becomes the hold reason's detail. */
class CheckerUnavailable extends Error {
  override readonly name = 'CheckerUnavailable';
}

interface CachedToken {
  readonly token: string;
  /** When to fetch a new one (epoch ms): shortly before it expires. */
  readonly refreshAt: number;
}

/**
 * Title, subtitle and body, one a line, in pieces of at most {@link MAX_CONTENT_CHARACTERS} code
 * points (the API's limit), so that every character of a long message is checked; empty when
 * there is no text.
 */
export const contentPieces = (input: ModerationInput): string[] => {
  const joined = [input.title, input.subtitle, input.body]
    .filter((part): part is string => part !== undefined && part !== '')
    .join('\n');
  if (joined.trim() === '') return [];
  const characters = Array.from(joined);
  const pieces: string[] = [];
  // Pieces overlap, so a phrase across a boundary is seen whole in one of them.
  for (let start = 0; ; start += MAX_CONTENT_CHARACTERS - PIECE_OVERLAP) {
    pieces.push(characters.slice(start, start + MAX_CONTENT_CHARACTERS).join(''));
    if (start + MAX_CONTENT_CHARACTERS >= characters.length) break;
  }
  return pieces;
};

const isSuccess = (response: AxiosResponse): boolean =>
  response.status >= 200 && response.status < 300;

/** The WeChat msgSecCheck policy; see the module comment for what it answers when. */
export const wechatMsgSecCheckPolicy = (
  options: WechatMsgSecCheckOptions,
): WechatMsgSecCheckPolicy => {
  const { appId, appSecret } = options;
  const apiBase = (options.apiBase ?? 'https://api.weixin.qq.com').replace(/\/+$/, '');
  const http =
    options.http ?? axios.create({ maxRedirects: 0, maxContentLength: 1_048_576, timeout: 5000 });
  const now = options.now ?? Date.now;
  const scene = options.scene ?? 1;
  const timeout = options.timeoutMs ?? 5000;
  const name = options.name ?? 'wechat';

  let cached: CachedToken | undefined;
  let pending: Promise<string> | undefined;
  /** The latest tokens (a refused one included), so that no reason ever shows them. */
  let recentTokens: readonly string[] = [];

  /** Keeps secrets out of reasons, whatever a server or a library put in a message. */
  const scrub = (text: string): string => {
    let clean = text;
    for (const secret of [appSecret, ...recentTokens]) {
      if (secret !== '') clean = clean.split(secret).join('***');
    }
    return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
  };

  const errorText = (answer: { errcode: number; errmsg?: string }): string =>
    answer.errmsg === undefined || answer.errmsg === ''
      ? `errcode ${answer.errcode}`
      : `errcode ${answer.errcode} (${scrub(answer.errmsg)})`;

  const fetchToken = async (): Promise<CachedToken> => {
    const startedAt = now();
    const response = await http.get(`${apiBase}/cgi-bin/token`, {
      params: { grant_type: 'client_credential', appid: appId, secret: appSecret },
      timeout,
      validateStatus: () => true,
    });
    if (!isSuccess(response)) {
      throw new CheckerUnavailable(`token endpoint answered HTTP ${response.status}`);
    }
    const data: unknown = response.data;
    const refused = ErrorAnswer.decode(data);
    if (E.isRight(refused) && refused.right.errcode !== 0) {
      throw new CheckerUnavailable(`token endpoint answered ${errorText(refused.right)}`);
    }
    const answer = TokenAnswer.decode(data);
    if (E.isLeft(answer) || answer.right.access_token === '' || !(answer.right.expires_in > 0)) {
      throw new CheckerUnavailable('token endpoint gave a malformed answer');
    }
    const lifetime = answer.right.expires_in * 1000;
    return {
      token: answer.right.access_token,
      refreshAt: startedAt + lifetime - Math.min(300_000, lifetime / 2),
    };
  };

  /** The cached token, or one fetch shared by every caller that needs a new one. */
  const getToken = (): Promise<string> => {
    if (cached !== undefined && now() < cached.refreshAt) return Promise.resolve(cached.token);
    pending ??= fetchToken()
      .then((fresh) => {
        cached = fresh;
        recentTokens = [fresh.token, ...recentTokens.slice(0, 1)];
        return fresh.token;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };

  /** Forgets a token the API refused (unless a newer one has replaced it meanwhile). */
  const dropToken = (token: string): void => {
    if (cached?.token === token) cached = undefined;
  };

  const callCheck = async (token: string, openid: string, content: string) => {
    const response = await http.post(
      `${apiBase}/wxa/msg_sec_check`,
      { version: 2, openid, scene, content },
      { params: { access_token: token }, timeout, validateStatus: () => true },
    );
    if (!isSuccess(response)) throw new CheckerUnavailable(`HTTP ${response.status}`);
    const answer = CheckAnswer.decode(response.data);
    if (E.isLeft(answer)) throw new CheckerUnavailable('malformed answer');
    return answer.right;
  };

  const verdictOf = (answer: CheckAnswer): PolicyVerdict => {
    const { errcode, result } = answer;
    if (errcode === 0) {
      if (result === undefined) throw new CheckerUnavailable('malformed answer (no result)');
      const label = String(result.label);
      switch (result.suggest) {
        case 'pass':
          return PASS;
        case 'review':
          return { kind: 'hold', reason: `WeChat suggests review: label ${describeLabel(label)}` };
        case 'risky':
          return {
            kind: 'reject',
            reason: `WeChat rates it risky: label ${describeLabel(label)}`,
            label,
          };
      }
    }
    if (CANNOT_JUDGE.has(errcode)) return PASS;
    if (errcode === BUSY) throw new CheckerUnavailable(`busy (${errorText(answer)})`);
    if (TOKEN_REFUSED.has(errcode)) {
      throw new CheckerUnavailable(`access token refused after a refresh (${errorText(answer)})`);
    }
    throw new CheckerUnavailable(errorText(answer));
  };

  const describe = (error: unknown): string => {
    if (error instanceof CheckerUnavailable) return error.message;
    if (isAxiosError(error)) {
      // Only the code: an axios message or config could carry the URL, and so the secret.
      return error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT'
        ? 'timed out'
        : `request failed (${error.code ?? 'network error'})`;
    }
    return `unexpected error: ${scrub(error instanceof Error ? error.message : String(error))}`;
  };

  return {
    name,
    check: async (input: ModerationInput): Promise<PolicyVerdict> => {
      const { openid } = input;
      if (openid === undefined || openid === '') return PASS;
      const pieces = contentPieces(input);
      if (pieces.length === 0) return PASS;
      try {
        // Every piece must pass: the first risky one rejects, otherwise the first doubtful one
        // holds.
        let verdict: PolicyVerdict = PASS;
        let token = await getToken();
        for (const content of pieces) {
          let answer = await callCheck(token, openid, content);
          if (TOKEN_REFUSED.has(answer.errcode)) {
            dropToken(token);
            token = await getToken();
            answer = await callCheck(token, openid, content);
          }
          const ofPiece = verdictOf(answer);
          if (ofPiece.kind === 'reject') return ofPiece;
          if (verdict.kind === 'pass') verdict = ofPiece;
        }
        return verdict;
      } catch (error) {
        return { kind: 'hold', reason: `checker unavailable: ${describe(error)}` };
      }
    },
  };
};
