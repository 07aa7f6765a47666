#!/usr/bin/env node
// `npx tidings`: runs bin/tidings.ts as it is, without a build step; tsx (a runtime dependency)
// compiles the TypeScript as it is imported.
import { register } from 'tsx/esm/api';

register();
await import('./tidings.ts');
