import { expect } from 'chai';
import {
  erasePersonalData,
  isErasedForm,
  personalEventTypes,
} from '../../../domain/recipient/personalData.js';
import { messageEventTypes } from '../../../domain/message/messageEvents.js';
import { recipientEventTypes } from '../../../domain/recipient/recipientEvents.js';
import { complaintEventTypes } from '../../../domain/complaint/complaintEvents.js';

describe('personal data of events (docs/audit.md, "Erasure")', () => {
  it('erases a message’s contents and keeps its ids, level and time', () => {
    const data = {
      messageId: 'm1',
      appId: 'a1',
      bindingId: 'b1',
      recipientId: 'r1',
      title: '订单 7',
      body: 'dispatched to 3 Elm St',
      url: 'https://orders.example/7',
      level: 'timeSensitive',
      deliverAt: '2026-12-06T10:00:00.000Z',
    };
    expect(erasePersonalData('MessageSubmitted', data)).to.deep.equal({
      ...data,
      title: '[erased]',
      body: '[erased]',
      url: '[erased]',
    });
  });
  it('erases each setting of a device under its name, secrets included', () => {
    const erased = erasePersonalData('RecipientDeviceAdded', {
      recipientId: 'r1',
      deviceId: 'd1',
      kind: 'ntfy',
      name: 'Phone',
      settings: { serverUrl: 'https://ntfy.sh', topic: 'alice', priority: 4 },
      secrets: { token: 'v1.sealed' },
      fingerprint: 'fp',
      addedAt: '2026-12-06T10:00:00.000Z',
    });
    expect(erased).to.deep.include({
      kind: 'ntfy',
      name: '[erased]',
      settings: { serverUrl: '[erased]', topic: '[erased]', priority: '[erased]' },
      secrets: { token: '[erased]' },
      fingerprint: '[erased]',
    });
  });
  it('is idempotent: erased data erases to nothing new; events without personal data too', () => {
    const once = erasePersonalData('ComplaintFiled', { complaintId: 'c', reason: 'he lies' });
    expect(once).to.deep.equal({ complaintId: 'c', reason: '[erased]' });
    expect(erasePersonalData('ComplaintFiled', once ?? {})).to.equal(undefined);
    expect(erasePersonalData('MessageApproved', { messageId: 'm', policy: 'p' })).to.equal(
      undefined,
    );
    expect(erasePersonalData('MessageSubmitted', { messageId: 'm' })).to.equal(undefined);
  });
  it('names only event types that exist', () => {
    const known = new Set<string>([
      ...messageEventTypes,
      ...recipientEventTypes,
      ...complaintEventTypes,
    ]);
    expect(personalEventTypes.filter((type) => !known.has(type))).to.deep.equal([]);
  });

  it('tells an erased form from any other data: only what erasure writes passes', () => {
    const data = { messageId: 'm1', recipientId: 'r1', title: 'hi', body: 'secret' };
    const erased = JSON.stringify(erasePersonalData('MessageSubmitted', data));
    expect(isErasedForm('MessageSubmitted', erased)).to.equal(true);
    expect(isErasedForm('MessageSubmitted', JSON.stringify(data))).to.equal(false);
    const halfErased = { ...data, title: '[erased]' };
    expect(isErasedForm('MessageSubmitted', JSON.stringify(halfErased))).to.equal(false);
    // A type without personal data, or data without any personal field, is never erased.
    expect(isErasedForm('MessageRouted', JSON.stringify({ messageId: 'm1' }))).to.equal(false);
    expect(isErasedForm('MessageSubmitted', JSON.stringify({ messageId: 'm1' }))).to.equal(false);
    expect(isErasedForm('MessageSubmitted', '[]')).to.equal(false);
  });
});
