/**
 * The moderation policy stage: every submitted message passes a chain of policies before any
 * delivery. A policy looks at the message and answers `pass`, `reject` or `hold`; the chain turns
 * those answers into one outcome. Pure: the policies themselves may do I/O (an external checker),
 * but this module only orders and combines their answers.
 */

/** What a policy sees of a submitted message. */
export interface ModerationInput {
  readonly messageId: string;
  readonly appId: string;
  /** The recipient's WeChat openid, when Tidings knows one (only the WeChat checker uses it). */
  readonly openid?: string;
  readonly title?: string;
  readonly subtitle?: string;
  readonly body: string;
  readonly url?: string;
}

/** One policy's answer. `label` is a machine-readable category (e.g. a WeChat label `20008`). */
export type PolicyVerdict =
  | { readonly kind: 'pass' }
  | { readonly kind: 'reject'; readonly reason: string; readonly label?: string }
  | { readonly kind: 'hold'; readonly reason: string };

/** A link of the chain. `check` may be synchronous or asynchronous, and may throw. */
export interface ModerationPolicy {
  readonly name: string;
  check(input: ModerationInput): PolicyVerdict | Promise<PolicyVerdict>;
}

/** A policy that answers at once (the local ones), so callers need not await it. */
export interface SyncModerationPolicy extends ModerationPolicy {
  /** Says so at run time too: a chain of such policies can be decided inside a command. */
  readonly answersAtOnce: true;
  check(input: ModerationInput): PolicyVerdict;
}

/**
 * The chain's decision, naming the policy that made it. An approval names the whole chain
 * (`denylist+limits+wechat`), since every policy agreed. A rejection carries the deciding
 * policy's `label` when it gave one (its reason says the same in words).
 */
export type ModerationOutcome =
  | { readonly kind: 'approve'; readonly policy: string }
  | {
      readonly kind: 'reject';
      readonly policy: string;
      readonly reason: string;
      readonly label?: string;
    }
  | { readonly kind: 'hold'; readonly policy: string; readonly reason: string };

/** The verdicts shared by every policy that has nothing to say. */
export const PASS: PolicyVerdict = { kind: 'pass' };

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** A policy written without the types (or with a bug) may answer anything; only verdicts count. */
const isVerdict = (value: unknown): value is PolicyVerdict => {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, reason } = value as { kind?: unknown; reason?: unknown };
  return kind === 'pass' || ((kind === 'reject' || kind === 'hold') && typeof reason === 'string');
};

/** One policy's answer, or what it threw (or its promise rejected with). */
type Answer = { readonly value: unknown } | { readonly error: unknown };

/** What one policy's answer makes of the chain: an outcome, or `undefined` to go on. */
const outcomeOf = (policy: ModerationPolicy, answer: Answer): ModerationOutcome | undefined => {
  const verdict = 'value' in answer && isVerdict(answer.value) ? answer.value : undefined;
  if (verdict === undefined) {
    const reason = 'error' in answer ? messageOf(answer.error) : 'it answered no verdict';
    return { kind: 'hold', policy: policy.name, reason: `policy ${policy.name} failed: ${reason}` };
  }
  switch (verdict.kind) {
    case 'pass':
      return undefined;
    case 'reject':
      return verdict.label === undefined
        ? { kind: 'reject', policy: policy.name, reason: verdict.reason }
        : { kind: 'reject', policy: policy.name, reason: verdict.reason, label: verdict.label };
    case 'hold':
      return { kind: 'hold', policy: policy.name, reason: verdict.reason };
  }
};

const approvalOf = (policies: readonly ModerationPolicy[]): ModerationOutcome => {
  if (policies.length === 0) throw new Error('moderate: the policy chain is empty');
  return { kind: 'approve', policy: policies.map((policy) => policy.name).join('+') };
};

/**
 * Runs the policies in order; the first verdict that is not `pass` decides, and the policies
 * after it are not asked (so a paid external checker is never called for a message the local
 * denylist already refused). A policy that throws, or whose promise rejects, counts as `hold` with
 * the reason `policy <name> failed: <message>`: an error never approves a message. When every
 * policy passes, the outcome is `approve` naming the chain (`denylist+limits+wechat`).
 *
 * An empty chain is a programming error (nothing would ever be checked), so it throws.
 */
export const moderate = async (
  policies: readonly ModerationPolicy[],
  input: ModerationInput,
): Promise<ModerationOutcome> => {
  const approval = approvalOf(policies);
  for (const policy of policies) {
    let answer: Answer;
    try {
      answer = { value: await policy.check(input) };
    } catch (error) {
      answer = { error };
    }
    const outcome = outcomeOf(policy, answer);
    if (outcome !== undefined) return outcome;
  }
  return approval;
};

/** A policy that answers at once (the local ones): a chain of them is decided without waiting. */
export const isSyncPolicy = (policy: ModerationPolicy): policy is SyncModerationPolicy =>
  (policy as Partial<SyncModerationPolicy>).answersAtOnce === true;

/** {@link moderate} for a chain of policies that answer at once, in the same turn of the loop. */
export const moderateNow = (
  policies: readonly SyncModerationPolicy[],
  input: ModerationInput,
): ModerationOutcome => {
  const approval = approvalOf(policies);
  for (const policy of policies) {
    let answer: Answer;
    try {
      answer = { value: policy.check(input) };
    } catch (error) {
      answer = { error };
    }
    const outcome = outcomeOf(policy, answer);
    if (outcome !== undefined) return outcome;
  }
  return approval;
};
