import { createSecretBox } from '../../adapters/security/secretBox.js';

/** A SecretBox with a fixed key, for tests that seal and open device secrets without a data folder. */
export const testSecretBox = createSecretBox(Buffer.alloc(32, 7));
