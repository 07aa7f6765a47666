import { aggregates } from '../../domain/aggregates.js';
import { appStreamName } from '../../domain/app/appDecider.js';
import { bindingStreamName } from '../../domain/binding/bindingDecider.js';
import { messageStreamName } from '../../domain/message/messageDecider.js';
import { foldRecorded } from '../../domain/shared/commandHandler.js';
import type { EventStore } from '../../domain/shared/eventStore.js';
import type { AuditEvent, AuditLog } from './auditLog.js';

/** The most events read from one stream for a trail. */
const MAX_EVENTS = 100_000;

/** The causal trail of one message (docs/audit.md, "Trail"). */
export interface MessageTrail {
  /** Every event of the trail, in log order. */
  readonly items: readonly AuditEvent[];
  /** The binding as the router read it: its state folded up to the routing event. */
  readonly bindingAtRouting?: {
    readonly stream: string;
    readonly revision: number;
    readonly state: unknown;
  };
}

interface Submission {
  readonly appId: string;
  readonly bindingId: string;
}

const causationOf = (event: AuditEvent): string =>
  (JSON.parse(event.metadata) as { causationId?: string }).causationId ?? '';

/**
 * The trail of a message: the events of its own stream (submission, moderation with the policy,
 * routing, every delivery attempt with the channel's answer, recall), the complaints about it
 * with everything on their streams, and the reactions in its app's stream that follow, by their
 * causation ids, from any event already in the trail (reputation, suspensions). The routing
 * decision comes with the binding state it read, folded by the server's decider from the
 * binding's events before it. Undefined for a message the log does not have.
 */
export const messageTrail = async (
  deps: { readonly audit: AuditLog; readonly store: EventStore },
  messageId: string,
): Promise<MessageTrail | undefined> => {
  const own = await deps.audit.events({ stream: messageStreamName(messageId), limit: MAX_EVENTS });
  const submitted = own.find((event) => event.type === 'MessageSubmitted');
  if (submitted === undefined) return undefined;
  const { appId, bindingId } = JSON.parse(submitted.data) as Submission;
  const complaintStreams = new Set(
    (await deps.audit.events({ types: ['ComplaintFiled'], messageId, limit: MAX_EVENTS })).map(
      (event) => event.stream,
    ),
  );
  const found = new Map<number, AuditEvent>();
  for (const event of own) found.set(event.position, event);
  for (const stream of complaintStreams) {
    for (const event of await deps.audit.events({ stream, limit: MAX_EVENTS })) {
      found.set(event.position, event);
    }
  }
  // Reactions come after their causes in the log, so one pass in log order closes the set.
  const ids = new Set([...found.values()].map((event) => event.eventId));
  const appEvents = await deps.audit.events({ stream: appStreamName(appId), limit: MAX_EVENTS });
  for (const event of appEvents) {
    if (ids.has(causationOf(event))) {
      found.set(event.position, event);
      ids.add(event.eventId);
    }
  }
  const items = [...found.values()].sort((a, b) => a.position - b.position);
  const routed = own.find((event) => event.type === 'MessageRouted');
  if (routed === undefined) return { items };
  const stream = bindingStreamName(bindingId);
  // Placed by the audit log's positions (on EventStoreDB those of its sealed copy, not the
  // log's own): the binding's events that came before the routing.
  const placed = new Map(
    (await deps.audit.events({ stream, limit: MAX_EVENTS })).map((event) => [
      event.eventId,
      event.position,
    ]),
  );
  const before = (await deps.store.readStream(stream)).filter(
    (event) => (placed.get(event.id) ?? Number.POSITIVE_INFINITY) < routed.position,
  );
  // The binding aggregate's own definition folds its events.
  const binding = aggregates.binding as unknown as Parameters<typeof foldRecorded>[0];
  return {
    items,
    bindingAtRouting: {
      stream,
      revision: before.at(-1)?.revision ?? -1,
      state: foldRecorded(binding, before),
    },
  };
};
