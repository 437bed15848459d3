/**
 * A garbage collection, now. onnxruntime-node returns a fresh copy of every output a run
 * writes, even of one written into a buffer the caller gave it (a preallocated output), and V8
 * frees such copies only when it next collects, which a heap of a few MB gives it little reason
 * to do: a 0.5B model's train step, whose gradient runs each return 2 GB of copies it drops at
 * once, had 3 GB of them waiting at a time. `--expose-gc` set at run time gives a new context
 * the `gc` function (Jest's leak detection does the same); it is unset again at once, so that no
 * other context made later in the process (a workflow sandbox) finds a `gc` global.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options: { type: 'major' }) => void;
setFlagsFromString('--no-expose-gc');

/**
 * Collects twice, a turn of the event loop apart: the first collection finds a run's outputs
 * dead, but the binding lets go of them only in a callback of the next turn (measured: their
 * memory came back with the second collection, not the first). One regular major collection
 * each: `gc()` without options collects as if memory had run out (several passes, compaction),
 * 12 ms on a trainer's heap against 0.3 ms, and frees the copies no sooner.
 */
export async function collectGarbage(): Promise<void> {
  gc({ type: 'major' });
  await new Promise((resolve) => setImmediate(resolve));
  gc({ type: 'major' });
}
