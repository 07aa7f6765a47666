import { expect } from 'chai';
import type { BarkStandIn } from '../../devtools/barkServer.js';
import type { CreatedApp } from './httpFixtures.js';
import {
  bindPerson,
  deliveryOn,
  getMessage,
  inboxIds,
  sendAccepted,
  waitUntil,
  type BoundPerson,
} from './pipeline.js';
import { call, type TestServer } from './testServer.js';
import { unique } from './unique.js';

/** What one person said and was sent, each text unique so stored data can be searched for it. */
export type Traces = Readonly<{
  readonly title: string;
  readonly body: string;
  readonly url: string;
  readonly complaint: string;
  /** The body of a second message, left in the inbox. */
  readonly note: string;
}>;

/**
 * A person with a Bark device, one delivered message, a complaint about it and a second message
 * in the inbox, for the erasure tests. With two servers (nodes of one deployment) the steps
 * alternate between them, so each node writes some of the history and reads the other's.
 */
export const personWithHistory = async (
  bark: BarkStandIn,
  app: CreatedApp,
  [one, two]: readonly [TestServer, TestServer],
): Promise<{ bound: BoundPerson; traces: Traces; messageId: string }> => {
  const bound = await bindPerson(one, bark, app);
  const traces: Traces = {
    title: unique('title-'),
    body: unique('body-'),
    url: `https://orders.example/${unique('order-')}`,
    complaint: unique('complaint-'),
    note: unique('note-'),
  };
  const messageId = await sendAccepted(two, app, {
    key: bound.key,
    title: traces.title,
    body: traces.body,
    url: traces.url,
  });
  await waitUntil(
    () => getMessage(one, app, messageId),
    (view) => deliveryOn(view, 'bark')?.status === 'delivered',
    'the Bark delivery',
  );
  const filed = await call(two.base, 'POST', `/v1/me/inbox/${messageId}/complaints`, {
    cookie: bound.person.cookie,
    body: { category: 'spam', reason: traces.complaint },
  });
  expect(filed.status, JSON.stringify(filed.body)).to.equal(201);
  const note = await sendAccepted(one, app, { key: bound.key, body: traces.note });
  await waitUntil(
    () => inboxIds(two, bound.person),
    (ids) => ids.includes(note),
    'the second message in the inbox',
  );
  return { bound, traces, messageId };
};
