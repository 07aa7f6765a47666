import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ChainVerifier, Digest, LookedStretch } from '../../domain/shared/hashChain.js';
import type { StretchRequest, StretchResult } from './verifyWorker.js';

/** Stretches looked at ahead of the verifier, per thread, at most (what waits stays small). */
const AHEAD_PER_THREAD = 4;

/**
 * Feeds `verifier` the links after `after` up to `to` (included), looked at by `threads` worker
 * threads on their own read-only connections to the database `file` (adapters/sqlite/
 * verifyWorker.ts): each thread checks a stretch's links against the stored hash of the link
 * before it, which is what makes the stretches independent, and the verifier takes the
 * stretches in order, reading only what holds state (docs/audit.md, "Verifying"). The report is
 * the verifier's, the same as checking each link in turn; this thread stays free meanwhile.
 */
export const verifyInParallel = async (
  verifier: ChainVerifier,
  file: string,
  range: { readonly after: number; readonly to: number },
  how: {
    readonly threads: number;
    /** Links per stretch a thread looks at in one go. */
    readonly stretch: number;
    readonly onProgress?: (checked: number) => void;
  },
): Promise<void> => {
  const { threads, stretch: size, onProgress } = how;
  const total = Math.ceil(Math.max(0, range.to - range.after) / size);
  if (total === 0) return;
  const workers = Array.from({ length: Math.min(threads, total) }, () => startWorker(file));
  let finished = false;
  try {
    await new Promise<void>((resolve, reject) => {
      const looked = new Map<number, LookedStretch>();
      const idle: Worker[] = [];
      let requested = 0;
      let taken = 0;
      const finish = (error?: Error): void => {
        if (finished) return;
        finished = true;
        if (error === undefined) resolve();
        else reject(error);
      };
      const dispatch = (worker: Worker): void => {
        if (finished || requested === total) return;
        if (requested - taken >= AHEAD_PER_THREAD * workers.length) {
          idle.push(worker);
          return;
        }
        const after = range.after + requested * size;
        const request: StretchRequest = {
          id: requested,
          after,
          to: Math.min(after + size, range.to),
        };
        requested += 1;
        worker.postMessage(request);
      };
      for (const worker of workers) {
        worker.on('message', (result: StretchResult) => {
          looked.set(result.id, revived(result.stretch));
          for (let stretch = looked.get(taken); stretch !== undefined;) {
            looked.delete(taken);
            taken += 1;
            if (!verifier.take(stretch)) {
              finish();
              return;
            }
            onProgress?.(verifier.verified);
            stretch = looked.get(taken);
          }
          if (taken === total) {
            finish();
            return;
          }
          dispatch(worker);
          while (idle.length > 0 && requested - taken < AHEAD_PER_THREAD * workers.length) {
            const waiting = idle.shift();
            if (waiting !== undefined) dispatch(waiting);
          }
        });
        worker.on('error', finish);
        worker.on('exit', (code) => {
          finish(new Error(`a verify thread stopped before its work was done (exit code ${code})`));
        });
        dispatch(worker);
      }
    });
  } finally {
    finished = true;
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
};

/** A verify thread; run from TypeScript sources (tsx), it registers tsx first. */
const startWorker = (file: string): Worker => {
  const here = import.meta.url;
  const script = new URL(`./verifyWorker${extname(fileURLToPath(here))}`, here);
  if (!script.pathname.endsWith('.ts')) return new Worker(script, { workerData: { file } });
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(script.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: { file } });
};

/** A stretch as it arrives from a thread: its Buffers came as plain byte arrays. */
const revived = (stretch: LookedStretch): LookedStretch => ({
  read: stretch.read.map((looked) => ({
    ...looked,
    link: {
      ...looked.link,
      dataDigest: bufferOf(looked.link.dataDigest),
      hash: bufferOf(looked.link.hash),
    },
    before: bufferOf(looked.before),
    hash: bufferOf(looked.hash),
  })),
  ...(stretch.last === undefined
    ? {}
    : { last: { position: stretch.last.position, hash: bufferOf(stretch.last.hash) } }),
  ...(stretch.fault === undefined
    ? {}
    : {
        fault: {
          ...stretch.fault,
          before: {
            position: stretch.fault.before.position,
            hash: bufferOf(stretch.fault.before.hash),
          },
        },
      }),
});

function bufferOf(bytes: Digest): Digest;
function bufferOf(bytes: Digest | null): Digest | null;
function bufferOf(bytes: Digest | null): Digest | null {
  if (bytes === null) return null;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
