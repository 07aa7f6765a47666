import { expect } from 'chai';
import {
  deviceTarget,
  kindOfTarget,
  parseDeliveryTarget,
} from '../../../domain/delivery/deliveryTarget.js';

describe('delivery targets (the `channel` of the Message events)', () => {
  it('names a device by kind and id, and reads it back', () => {
    expect(deviceTarget('ntfy', 'dev_abc')).to.equal('ntfy:dev_abc');
    expect(parseDeliveryTarget('ntfy:dev_abc')).to.deep.equal({
      kind: 'ntfy',
      deviceId: 'dev_abc',
    });
    expect(kindOfTarget('ntfy:dev_abc')).to.equal('ntfy');
  });
  it('reads the inbox as the inbox', () => {
    expect(parseDeliveryTarget('inbox')).to.equal('inbox');
    expect(kindOfTarget('inbox')).to.equal('inbox');
  });
  it('reads the old logs’ bare `bark` as the legacy Bark device, and writes that device so again', () => {
    expect(parseDeliveryTarget('bark')).to.deep.equal({ kind: 'bark', deviceId: 'bark' });
    expect(deviceTarget('bark', 'bark')).to.equal('bark');
  });
  it('splits at the first colon only', () => {
    expect(parseDeliveryTarget('x:a:b')).to.deep.equal({ kind: 'x', deviceId: 'a:b' });
  });
});
