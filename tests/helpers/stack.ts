import { stackUp, type StackInfo } from '../../infra/local/stack';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Each test process has task queues of its own, so that workers of other test files, of a
// developer's `r1 worker`, or of a run left behind, never pick up its tasks (nor it theirs).
process.env.R1_TASK_QUEUE_PREFIX ??= `r1-test-${process.pid}-`;
// One onnxruntime thread per engine, in-process workers and worker processes alike: runs of a
// spec then give the same weights bit for bit, whichever worker applies a step.
process.env.R1_WORKER_THREADS ??= '1';

/**
 * The real embedded stack for integration tests. `npm test` starts it before the tests and stops
 * it after; a test file run on its own starts it here (it is idempotent) and leaves it running.
 */
export function ensureStack(): Promise<StackInfo> {
  return stackUp();
}
