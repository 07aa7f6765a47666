import { expect } from 'chai';

/**
 * The error `promise` rejects with; fails the test when it resolves instead, or rejects with
 * something that is not an Error. Awaiting it is what makes the test wait for the rejection
 * (an unawaited rejection check is a test that cannot fail).
 */
export const rejectionOf = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(Error);
    return error as Error;
  }
  return expect.fail('expected the promise to reject');
};
