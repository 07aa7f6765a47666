import { PassThrough } from 'node:stream';
import {
  PersistentSubscriptionDoesNotExistError,
  PersistentSubscriptionExistsError,
  UnavailableError,
} from '@eventstore/db-client';
import type {
  CreatePersistentSubscriptionToAllOptions,
  PersistentAction,
  PersistentSubscriptionToAllResolvedEvent,
  PersistentSubscriptionToAllSettings,
  SubscribeToPersistentSubscriptionToAllOptions,
} from '@eventstore/db-client';
import type { EventStore, RecordedEvent, Subscription } from '../../domain/shared/eventStore.js';
import type { PersistentDeliveryClient } from '../../adapters/eventstoredb/persistentDelivery.js';
import { serviceError } from '../adapters/eventstoredb/stubClient.js';

/**
 * A stand-in for EventStoreDB's persistent subscriptions to `$all`, fed from any Tidings log: it
 * keeps groups (created with a type filter), hands each event to one connected consumer in turn
 * (round robin, at most `bufferSize` unanswered per consumer), takes acks, retries (the event goes
 * back to the front, its retry count up by one) and parks, and gives a consumer's unanswered
 * events to the others when it unsubscribes — the server's behaviour the delivery groups rely on
 * (a dropped consumer's events are retried at once, an event past the group's maxRetryCount is
 * parked by the server; the message timeout, checkpoints and a leader's redelivery from its last
 * checkpoint are not modelled). The
 * client's calls are shaped as the v6 client's dist/ sources show them.
 */

interface Pending {
  readonly event: RecordedEvent;
  readonly retryCount: number;
}

interface Consumer {
  readonly source: PassThrough;
  readonly bufferSize: number;
  readonly unanswered: Map<string, Pending>;
  gone: boolean;
}

/** One group, as the stand-in keeps it. */
export interface StandInGroup {
  readonly name: string;
  readonly settings: PersistentSubscriptionToAllSettings;
  readonly types: RegExp;
  readonly queue: Pending[];
  readonly consumers: Consumer[];
  /** Ids acknowledged, in order. */
  readonly acked: string[];
  readonly parked: Array<{ readonly id: string; readonly reason: string }>;
  /** Ids handed out with their retry count, in order. */
  readonly handedOut: Array<{ readonly id: string; readonly retryCount: number }>;
  turn: number;
}

export interface GroupServerStandIn {
  readonly client: PersistentDeliveryClient;
  readonly groups: Map<string, StandInGroup>;
  /**
   * Drops every consumer of `group` as a leader change does: their unanswered events go back to
   * the front of the queue (retry count up by one) and each call fails with UnavailableError.
   */
  drop(group: string): void;
  /** Starts feeding every group (and groups created later) from `store`, from its beginning. */
  attach(store: EventStore): void;
  close(): Promise<void>;
}

const resolvedOf = (pending: Pending): PersistentSubscriptionToAllResolvedEvent => {
  const { event } = pending;
  return {
    event: {
      streamId: event.stream,
      id: event.id,
      revision: BigInt(event.revision),
      type: event.type,
      data: event.data as never,
      metadata: event.metadata as never,
      isJson: true,
      created: new Date(),
      position: { commit: event.position.commit, prepare: event.position.prepare },
    },
    retryCount: pending.retryCount,
    commitPosition: event.position.commit,
  };
};

const missingGroup = (name: string): PersistentSubscriptionDoesNotExistError =>
  new PersistentSubscriptionDoesNotExistError(
    serviceError(5, `NOT_FOUND: ${name}`, {
      exception: 'persistent-subscription-does-not-exist',
      'stream-name': '$all',
      'group-name': name,
    }),
  );

export const startGroupServer = (): GroupServerStandIn => {
  const groups = new Map<string, StandInGroup>();
  const feeds: Subscription[] = [];
  let store: EventStore | undefined;

  /** Puts events back for another try, parking those past the group's `maxRetryCount`. */
  const requeue = (group: StandInGroup, events: readonly Pending[], reason: string): void => {
    const again: Pending[] = [];
    for (const pending of events) {
      if (pending.retryCount + 1 > group.settings.maxRetryCount) {
        group.parked.push({ id: pending.event.id, reason: `max retries reached: ${reason}` });
      } else {
        again.push({ ...pending, retryCount: pending.retryCount + 1 });
      }
    }
    group.queue.unshift(...again);
  };

  const dispatch = (group: StandInGroup): void => {
    while (group.queue.length > 0) {
      const open = group.consumers.filter(
        (consumer) => !consumer.gone && consumer.unanswered.size < consumer.bufferSize,
      );
      if (open.length === 0) return;
      const consumer = open[group.turn++ % open.length];
      const next = group.queue.shift();
      if (consumer === undefined || next === undefined) return;
      consumer.unanswered.set(next.event.id, next);
      group.handedOut.push({ id: next.event.id, retryCount: next.retryCount });
      consumer.source.write(resolvedOf(next));
    }
  };

  const feed = (group: StandInGroup, from: EventStore): void => {
    const subscription = from.subscribe({});
    feeds.push(subscription);
    void (async () => {
      for await (const batch of subscription) {
        for (const event of batch) {
          if (group.types.test(event.type)) group.queue.push({ event, retryCount: 0 });
        }
        dispatch(group);
      }
    })();
  };

  const client = {
    createPersistentSubscriptionToAll: (
      name: string,
      settings: PersistentSubscriptionToAllSettings,
      options?: CreatePersistentSubscriptionToAllOptions,
    ) => {
      if (groups.has(name)) {
        return Promise.reject(
          new PersistentSubscriptionExistsError(
            serviceError(6, `ALREADY_EXISTS: ${name}`, {
              exception: 'persistent-subscription-exists',
              'stream-name': '$all',
              'group-name': name,
            }),
          ),
        );
      }
      const regex = (options?.filter as { regex?: string } | undefined)?.regex ?? '.*';
      const group: StandInGroup = {
        name,
        settings,
        types: new RegExp(regex),
        queue: [],
        consumers: [],
        acked: [],
        parked: [],
        handedOut: [],
        turn: 0,
      };
      groups.set(name, group);
      if (store !== undefined) feed(group, store);
      return Promise.resolve();
    },
    getPersistentSubscriptionToAllInfo: (name: string) => {
      const group = groups.get(name);
      if (group === undefined) return Promise.reject(missingGroup(name));
      return Promise.resolve({ groupName: name, eventSource: '$all', settings: group.settings });
    },
    updatePersistentSubscriptionToAll: () =>
      Promise.reject(new Error('the stand-in does not update groups')),
    subscribeToPersistentSubscriptionToAll: (
      name: string,
      options?: SubscribeToPersistentSubscriptionToAllOptions,
    ) => {
      const group = groups.get(name);
      const source = new PassThrough({ objectMode: true });
      const consumer: Consumer = {
        source,
        bufferSize: options?.bufferSize ?? 10,
        unanswered: new Map(),
        gone: false,
      };
      if (group === undefined) {
        setImmediate(() => source.destroy(missingGroup(name)));
      } else {
        group.consumers.push(consumer);
        setImmediate(() => {
          dispatch(group);
        });
      }
      const answered = (events: readonly PersistentSubscriptionToAllResolvedEvent[]): Pending[] =>
        events.flatMap((resolved) => {
          const id = resolved.event?.id ?? '';
          const pending = consumer.unanswered.get(id);
          consumer.unanswered.delete(id);
          return pending === undefined ? [] : [pending];
        });
      return Object.assign(source, {
        ack: (...events: PersistentSubscriptionToAllResolvedEvent[]) => {
          if (group !== undefined) {
            for (const pending of answered(events)) group.acked.push(pending.event.id);
            dispatch(group);
          }
          return Promise.resolve();
        },
        nack: (
          action: PersistentAction,
          reason: string,
          ...events: PersistentSubscriptionToAllResolvedEvent[]
        ) => {
          if (group !== undefined) {
            for (const pending of answered(events)) {
              if (action === 'park') group.parked.push({ id: pending.event.id, reason });
              else requeue(group, [pending], reason);
            }
            dispatch(group);
          }
          return Promise.resolve();
        },
        unsubscribe: () => {
          if (group !== undefined && !consumer.gone) {
            consumer.gone = true;
            group.consumers.splice(group.consumers.indexOf(consumer), 1);
            requeue(group, [...consumer.unanswered.values()], 'the consumer unsubscribed');
            consumer.unanswered.clear();
            dispatch(group);
          }
          source.end();
          return Promise.resolve();
        },
      });
    },
  };
  return {
    client: client as unknown as PersistentDeliveryClient,
    groups,
    drop: (name) => {
      const group = groups.get(name);
      if (group === undefined) return;
      for (const consumer of [...group.consumers]) {
        consumer.gone = true;
        group.consumers.splice(group.consumers.indexOf(consumer), 1);
        requeue(group, [...consumer.unanswered.values()], 'the leader changed');
        consumer.unanswered.clear();
        consumer.source.destroy(new UnavailableError());
      }
      dispatch(group);
    },
    attach: (from) => {
      store = from;
      for (const group of groups.values()) feed(group, from);
    },
    close: async () => {
      await Promise.all(feeds.map((subscription) => subscription.close()));
    },
  };
};
