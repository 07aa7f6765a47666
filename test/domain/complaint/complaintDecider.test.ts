import { expect } from 'chai';
import type {
  ComplaintCommand,
  FileComplaint,
} from '../../../domain/complaint/complaintCommands.js';
import {
  complaintDecider,
  complaintStreamName,
} from '../../../domain/complaint/complaintDecider.js';
import type { ComplaintEvent } from '../../../domain/complaint/complaintEvents.js';
import {
  ComplaintEventCodec,
  complaintEventTypes,
} from '../../../domain/complaint/complaintEvents.js';
import { SYSTEM_APP_ID } from '../../../domain/app/systemApp.js';
import { expectEventsRoundTrip, spec } from '../deciderSpecification.js';

const metadata = { now: '2025-03-01T12:00:00.000Z' };
const complaintId = 'c-1';
const alice = 'r-alice';

const filing: FileComplaint['data'] = {
  complaintId,
  messageId: 'm-1',
  appId: 'app-1',
  recipientId: alice,
  category: 'spam',
  reason: 'third promo today',
};

const filed: ComplaintEvent = { type: 'ComplaintFiled', data: filing };
const upheld: ComplaintEvent = {
  type: 'ComplaintUpheld',
  data: { complaintId, severity: 'major', note: 'repeated promos' },
};
const dismissed: ComplaintEvent = { type: 'ComplaintDismissed', data: { complaintId } };
const withdrawn: ComplaintEvent = { type: 'ComplaintWithdrawn', data: { complaintId } };

const file = (overrides: Partial<typeof filing> = {}): ComplaintCommand => ({
  type: 'FileComplaint',
  data: { ...filing, ...overrides },
  metadata,
});
const uphold = (severity: 'minor' | 'major' | 'severe' = 'major'): ComplaintCommand => ({
  type: 'UpholdComplaint',
  data: { complaintId, severity, note: 'repeated promos' },
  metadata,
});
const dismiss: ComplaintCommand = { type: 'DismissComplaint', data: { complaintId }, metadata };
const withdraw = (recipientId = alice): ComplaintCommand => ({
  type: 'WithdrawComplaint',
  data: { complaintId, recipientId },
  metadata,
});

describe('complaintDecider', () => {
  const complaint = spec(complaintDecider);

  it('names the stream complaint-<complaintId>', () => {
    expect(complaintStreamName('c-9')).to.equal('complaint-c-9');
  });

  describe('FileComplaint', () => {
    it('files a complaint', () => {
      complaint.given([]).when(file()).then([filed]);
    });
    it('ignores an identical repeat while open', () => {
      complaint.given([filed]).when(file()).thenNothing();
    });
    it('refuses a second, different complaint while open', () => {
      complaint
        .given([filed])
        .when(file({ reason: 'and again' }))
        .thenError('duplicate_complaint', { complaintId, state: 'open' });
    });
    it('refuses filing again after it was upheld', () => {
      complaint.given([filed, upheld]).when(file()).thenError('duplicate_complaint');
    });
    it('refuses filing again after it was dismissed', () => {
      complaint.given([filed, dismissed]).when(file()).thenError('duplicate_complaint');
    });
    it('reopens a withdrawn complaint', () => {
      complaint
        .given([filed, withdrawn])
        .when(file({ category: 'fraud', reason: 'asked for my bank code' }))
        .then([
          {
            type: 'ComplaintFiled',
            data: { ...filing, category: 'fraud', reason: 'asked for my bank code' },
          },
        ]);
    });
    it('refuses an id that belongs to another message', () => {
      complaint
        .given([filed])
        .when(file({ messageId: 'm-2' }))
        .thenError('illegal_state');
    });
  });

  describe('UpholdComplaint', () => {
    it('upholds an open complaint', () => {
      complaint.given([filed]).when(uphold()).then([upheld]);
    });
    it('ignores upholding again with the same severity', () => {
      complaint.given([filed, upheld]).when(uphold()).thenNothing();
    });
    it('refuses to change the severity of an upheld complaint', () => {
      complaint.given([filed, upheld]).when(uphold('severe')).thenError('illegal_state');
    });
    it('refuses to uphold a dismissed complaint', () => {
      complaint
        .given([filed, dismissed])
        .when(uphold())
        .thenError('illegal_state', { complaintId, state: 'dismissed' });
    });
    it('refuses to uphold a withdrawn complaint', () => {
      complaint.given([filed, withdrawn]).when(uphold()).thenError('illegal_state');
    });
    it('refuses an unknown complaint', () => {
      complaint.given([]).when(uphold()).thenError('not_found', { complaintId });
    });
  });

  describe('DismissComplaint', () => {
    it('dismisses an open complaint', () => {
      complaint.given([filed]).when(dismiss).then([dismissed]);
    });
    it('keeps a note', () => {
      complaint
        .given([filed])
        .when({ ...dismiss, data: { complaintId, note: 'normal order update' } })
        .then([{ type: 'ComplaintDismissed', data: { complaintId, note: 'normal order update' } }]);
    });
    it('ignores dismissing again', () => {
      complaint.given([filed, dismissed]).when(dismiss).thenNothing();
    });
    it('refuses to dismiss an upheld complaint', () => {
      complaint.given([filed, upheld]).when(dismiss).thenError('illegal_state');
    });
    it('refuses an unknown complaint', () => {
      complaint.given([]).when(dismiss).thenError('not_found');
    });
  });

  describe('WithdrawComplaint', () => {
    it('lets the filer withdraw an open complaint', () => {
      complaint.given([filed]).when(withdraw()).then([withdrawn]);
    });
    it('ignores withdrawing twice', () => {
      complaint.given([filed, withdrawn]).when(withdraw()).thenNothing();
    });
    it('answers not_found to anyone but the filer', () => {
      complaint.given([filed]).when(withdraw('r-bob')).thenError('not_found', { complaintId });
    });
    it('refuses to withdraw a decided complaint', () => {
      complaint.given([filed, upheld]).when(withdraw()).thenError('illegal_state');
    });
    it('refuses an unknown complaint', () => {
      complaint.given([]).when(withdraw()).thenError('not_found');
    });
  });

  describe('about the built-in app of test pushes', () => {
    const aboutSystemApp: ComplaintEvent = {
      type: 'ComplaintFiled',
      data: { ...filing, appId: SYSTEM_APP_ID },
    };
    it('refuses to file one with forbidden, naming the app', () => {
      complaint
        .given([])
        .when(file({ appId: SYSTEM_APP_ID }))
        .thenError('forbidden', { appId: SYSTEM_APP_ID });
    });
    it('refuses to uphold one filed before that rule, which can still be dismissed or withdrawn', () => {
      complaint.given([aboutSystemApp]).when(uphold()).thenError('forbidden');
      complaint.given([aboutSystemApp]).when(dismiss).then([dismissed]);
      complaint.given([aboutSystemApp]).when(withdraw()).then([withdrawn]);
    });
  });

  describe('events', () => {
    it('round-trip through ComplaintEventCodec, and a malformed one is refused', () => {
      expectEventsRoundTrip(ComplaintEventCodec, complaintEventTypes, complaint.recorded, {
        type: 'ComplaintUpheld',
        data: { complaintId, severity: 'catastrophic' },
      });
    });
  });
});
