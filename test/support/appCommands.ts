import type { AppCommand } from '../../domain/app/appCommands.js';

/**
 * App commands for the tests that drive the command handler directly (command handler, state
 * cache): one fixed clock and one operator, so expected metadata can be written out.
 */

/** The `now` of every command built here. */
export const now = '2026-11-24T10:00:00.000Z';

/** The actor the tests run commands as. */
export const operator = { kind: 'operator', id: 'op-1' } as const;

/** Registers app `appId` (name `App <appId>`, secret hash `hash-<appId>`). */
export const register = (appId: string): AppCommand => ({
  type: 'RegisterApp',
  data: {
    appId,
    name: `App ${appId}`,
    redirectUris: ['https://example.com/cb'],
    secretHash: `hash-${appId}`,
  },
  metadata: { now },
});

/** Takes 5 points off app `appId` for complaint `complaintId`. */
export const penalize = (appId: string, complaintId: string): AppCommand => ({
  type: 'PenalizeApp',
  data: { appId, points: 5, complaintIds: [complaintId], reason: 'upheld complaint' },
  metadata: { now },
});
