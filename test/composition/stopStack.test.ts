import { expect } from 'chai';
import type { Logger } from '../../domain/shared/logger.js';
import { StopStack } from '../../composition/stopStack.js';

/** A logger that keeps its error lines. */
const recordingLogger = (errors: string[]): Logger => {
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (message) => {
      errors.push(message);
    },
    child: () => logger,
  };
  return logger;
};

describe('StopStack: the shutdown steps of a start', () => {
  it('runs the steps last first, awaiting each before the next', async () => {
    const ran: string[] = [];
    const stops = new StopStack(recordingLogger([]));
    stops.push(() => {
      ran.push('release the lock');
    });
    stops.push(async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      ran.push('close the store');
    });
    stops.push(() => {
      ran.push('close the server');
    });
    await stops.runAll();
    expect(ran).to.deep.equal(['close the server', 'close the store', 'release the lock']);
  });

  it('runs every step although an earlier one failed, and logs the failure', async () => {
    const ran: string[] = [];
    const errors: string[] = [];
    const stops = new StopStack(recordingLogger(errors));
    stops.push(() => {
      ran.push('release the lock');
    });
    stops.push(() => Promise.reject(new Error('store would not close')));
    stops.push(() => {
      throw new Error('server would not close');
    });
    await stops.runAll();
    expect(ran).to.deep.equal(['release the lock']);
    expect(errors).to.deep.equal([
      'a shutdown step failed; going on with the others',
      'a shutdown step failed; going on with the others',
    ]);
  });

  it('runs each step once, however often it is run', async () => {
    let runs = 0;
    const stops = new StopStack(recordingLogger([]));
    stops.push(() => {
      runs += 1;
    });
    await stops.runAll();
    await stops.runAll();
    expect(runs).to.equal(1);
  });
});
