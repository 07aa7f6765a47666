import { authAttempts } from '../../../application/auth/authAttempts.js';
import { deleteOwnAccount, eraseRecipient } from '../../../application/erasure/eraseRecipient.js';
import { passwordHasher } from '../../security/passwords.js';
import { boundedString, strictObject } from '../codecs.js';
import { ProblemError } from '../problem.js';
import { defineRoute, type Route } from '../routing.js';
import { secureCookiesOf, sessionCookie } from './authRoutes.js';
import type { ApiDeps } from './deps.js';
import { invocationOf, orRefusal } from './refusals.js';

const DeleteAccountBody = strictObject('DeleteAccountBody', {
  password: boundedString('Password', { minLength: 1, maxLength: 256 }),
});

const EraseRecipientParams = strictObject('EraseRecipientParams', {
  recipientId: boundedString('RecipientId', { minLength: 1, maxLength: 64 }),
});

const EraseRecipientBody = strictObject('EraseRecipientBody', {
  reason: boundedString('ErasureReason', {
    minLength: 1,
    maxLength: 500,
    pattern: /\S/u,
    description: 'the reason the deletion records: not only spaces',
  }),
});

const ERASED_DESCRIPTION =
  'The person\'s personal data (username, devices, the contents of messages to them, their complaints\' texts) is erased from the log and every read model before this answers, their bindings are revoked (their apps get 410 binding_revoked), and the deletion is recorded as an event; the audit chain still verifies, with "[erased]" where the data was (docs/audit.md, "Erasure"). 503 unavailable on an EventStoreDB log, whose events cannot be rewritten.';

/** Account deletion, by the person and by an operator (docs/api.md, docs/audit.md "Erasure"). */
export const erasureRoutes = (deps: ApiDeps): Route[] => {
  const { erased } = deps;
  const erase =
    erased === undefined ? undefined : eraseRecipient({ commands: deps.commands, erased });
  const eraser = (): NonNullable<typeof erase> => {
    if (erase === undefined) {
      throw new ProblemError(
        'unavailable',
        'accounts cannot be erased on an EventStoreDB log: its events cannot be rewritten (docs/audit.md, "Erasure")',
      );
    }
    return erase;
  };
  const ownDeletion = {
    recipients: deps.recipients,
    passwords: passwordHasher(deps.passwordCost),
    attempts: authAttempts(deps.authFailures),
  };
  const secureCookies = secureCookiesOf(deps);
  return [
    defineRoute(
      {
        method: 'delete',
        path: '/v1/me',
        tag: 'recipient',
        summary: 'Delete my account',
        description: `The password is asked again (401 when wrong, with the failure budgets of logging in). ${ERASED_DESCRIPTION} The session cookie is cleared.`,
        auth: 'recipient',
        body: DeleteAccountBody,
        errors: ['unauthorized', 'rate_limited', 'unavailable'],
        responses: { 204: { description: 'Deleted and erased' } },
      },
      async (request) => {
        const deleteOwn = deleteOwnAccount({ ...ownDeletion, erase: eraser() });
        orRefusal(
          await deleteOwn(
            request.caller.recipientId,
            request.body.password,
            request.ip,
            invocationOf(request),
          ),
        );
        return { status: 204, cookies: [sessionCookie('', 0, secureCookies(request))] };
      },
    ),
    defineRoute(
      {
        method: 'delete',
        path: '/v1/admin/recipients/:recipientId',
        tag: 'operator',
        summary: "Delete a person's account",
        description: `With the reason, which the deletion's event records. ${ERASED_DESCRIPTION} Deleting a deleted account answers 204 again.`,
        auth: 'operator',
        params: EraseRecipientParams,
        body: EraseRecipientBody,
        errors: ['not_found', 'unavailable'],
        responses: { 204: { description: 'Deleted and erased' } },
      },
      async (request) => {
        orRefusal(
          await eraser()(
            request.params.recipientId,
            { by: 'operator', reason: request.body.reason },
            invocationOf(request),
          ),
        );
        return { status: 204 };
      },
    ),
  ];
};
