import { stackUp, type StackInfo } from '../../infra/local/stack';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * The real embedded stack for integration tests. `npm test` starts it before the tests and stops
 * it after; a test file run on its own starts it here (it is idempotent) and leaves it running.
 */
export function ensureStack(): Promise<StackInfo> {
  return stackUp();
}
