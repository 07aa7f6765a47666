import * as E from 'fp-ts/lib/Either.js';
import type { Decider } from '../shared/decider.js';
import { forbiddenForSystemApp, isSystemApp } from '../app/systemApp.js';
import { domainError } from '../shared/domainError.js';
import type { DomainError } from '../shared/domainError.js';
import type {
  ComplaintCommand,
  DismissComplaint,
  FileComplaint,
  UpholdComplaint,
  WithdrawComplaint,
} from './complaintCommands.js';
import type { ComplaintEvent, ComplaintFiled, ComplaintSeverity } from './complaintEvents.js';

/** What the person filed (the latest filing, if they withdrew and filed again). */
export type ComplaintFiling = ComplaintFiled['data'];

/** The Complaint aggregate's state: nothing filed, or a filing and where its review stands. */
export type ComplaintState =
  | { readonly status: 'empty' }
  | { readonly status: 'open'; readonly filing: ComplaintFiling }
  | {
      readonly status: 'upheld';
      readonly filing: ComplaintFiling;
      readonly severity: ComplaintSeverity;
    }
  | { readonly status: 'dismissed'; readonly filing: ComplaintFiling }
  | { readonly status: 'withdrawn'; readonly filing: ComplaintFiling };

type FiledComplaint = Exclude<ComplaintState, { status: 'empty' }>;
type Decision = E.Either<DomainError, readonly ComplaintEvent[]>;

/** The stream that holds one complaint's events. */
export const complaintStreamName = (complaintId: string): string => `complaint-${complaintId}`;

const initialState = (): ComplaintState => ({ status: 'empty' });

const evolve = (state: ComplaintState, event: ComplaintEvent): ComplaintState => {
  if (event.type === 'ComplaintFiled') return { status: 'open', filing: event.data };
  if (state.status === 'empty') return state;
  switch (event.type) {
    case 'ComplaintUpheld':
      return { status: 'upheld', filing: state.filing, severity: event.data.severity };
    case 'ComplaintDismissed':
      return { status: 'dismissed', filing: state.filing };
    case 'ComplaintWithdrawn':
      return { status: 'withdrawn', filing: state.filing };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
};

const notFound = (complaintId: string): Decision =>
  E.left(domainError('not_found', `complaint ${complaintId} does not exist`, { complaintId }));

const illegal = (state: FiledComplaint, action: string): Decision =>
  E.left(
    domainError('illegal_state', `cannot ${action} a complaint that is ${state.status}`, {
      complaintId: state.filing.complaintId,
      state: state.status,
    }),
  );

/**
 * The built-in app sends a person only the test pushes they ask for, and has no reputation to
 * lose (domain/app/systemApp.ts): complaints about it are refused, and one filed before that rule
 * can be dismissed or withdrawn but not upheld.
 */
const noComplaintsAboutSystemApp = forbiddenForSystemApp(
  'complaints about its messages go nowhere; turn it down or block it in "My apps" instead',
);

const fileComplaint = (command: FileComplaint, state: ComplaintState): Decision => {
  const { complaintId, messageId, appId, recipientId, category, reason } = command.data;
  const filing = { complaintId, messageId, appId, recipientId, category, reason };
  if (isSystemApp(appId)) return E.left(noComplaintsAboutSystemApp);
  if (state.status === 'empty') return E.right([{ type: 'ComplaintFiled', data: filing }]);
  const { filing: previous } = state;
  if (
    previous.messageId !== messageId ||
    previous.recipientId !== recipientId ||
    previous.appId !== appId
  ) {
    // The id is derived from (messageId, recipientId); a mismatch is the caller's bug.
    return E.left(
      domainError('illegal_state', `complaint ${complaintId} concerns another message or person`, {
        complaintId,
      }),
    );
  }
  // Withdrawing gave the person their complaint back; filing again reopens the same stream.
  if (state.status === 'withdrawn') return E.right([{ type: 'ComplaintFiled', data: filing }]);
  if (state.status === 'open' && previous.category === category && previous.reason === reason) {
    return E.right([]);
  }
  return E.left(
    domainError('duplicate_complaint', 'you already complained about this message', {
      complaintId,
      state: state.status,
    }),
  );
};

const upholdComplaint = (command: UpholdComplaint, state: FiledComplaint): Decision => {
  const { complaintId, severity, note } = command.data;
  if (isSystemApp(state.filing.appId)) return E.left(noComplaintsAboutSystemApp);
  // A different severity is not a repeat: the penalty for the first one has been charged.
  if (state.status === 'upheld' && state.severity === severity) return E.right([]);
  if (state.status !== 'open') return illegal(state, 'uphold');
  return E.right([
    {
      type: 'ComplaintUpheld',
      data: { complaintId, severity, ...(note === undefined ? {} : { note }) },
    },
  ]);
};

const dismissComplaint = (command: DismissComplaint, state: FiledComplaint): Decision => {
  const { complaintId, note } = command.data;
  if (state.status === 'dismissed') return E.right([]);
  if (state.status !== 'open') return illegal(state, 'dismiss');
  return E.right([
    { type: 'ComplaintDismissed', data: { complaintId, ...(note === undefined ? {} : { note }) } },
  ]);
};

const withdrawComplaint = (command: WithdrawComplaint, state: FiledComplaint): Decision => {
  const { complaintId, recipientId } = command.data;
  // Someone else's complaint answers exactly like a missing one.
  if (state.filing.recipientId !== recipientId) return notFound(complaintId);
  if (state.status === 'withdrawn') return E.right([]);
  if (state.status !== 'open') return illegal(state, 'withdraw');
  return E.right([{ type: 'ComplaintWithdrawn', data: { complaintId } }]);
};

const decide = (command: ComplaintCommand, state: ComplaintState): Decision => {
  if (command.type === 'FileComplaint') return fileComplaint(command, state);
  if (state.status === 'empty') return notFound(command.data.complaintId);
  switch (command.type) {
    case 'UpholdComplaint':
      return upholdComplaint(command, state);
    case 'DismissComplaint':
      return dismissComplaint(command, state);
    case 'WithdrawComplaint':
      return withdrawComplaint(command, state);
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
};

/**
 * The Complaint aggregate: one person's complaint about one message, from filing to an
 * operator's verdict (or the person's withdrawal). Penalties are the penalty policy's business.
 */
export const complaintDecider: Decider<ComplaintCommand, ComplaintEvent, ComplaintState> = {
  initialState,
  evolve,
  decide,
};
