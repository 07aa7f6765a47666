import { expect } from 'chai';
import { derivedId } from '../../../adapters/security/secrets.js';
import { isSystemApp, SYSTEM_APP_ID } from '../../../domain/app/systemApp.js';

describe('the built-in app of test pushes', () => {
  it('keeps the id data folders already hold it under: derivedId("app_", "tidings-system")', () => {
    expect(SYSTEM_APP_ID).to.equal(derivedId('app_', 'tidings-system'));
  });
  it('is recognised by its id alone', () => {
    expect(isSystemApp(SYSTEM_APP_ID)).to.equal(true);
    expect(isSystemApp(`${SYSTEM_APP_ID}x`)).to.equal(false);
    expect(isSystemApp('app_someoneElse')).to.equal(false);
  });
});
