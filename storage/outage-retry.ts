import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';

/**
 * The S3 client's retries: an error the SDK classes as transient (connection refused or reset,
 * timeouts, throttling, 5xx) is retried with capped exponential backoff until the store has been
 * unreachable for `budgetMs`, so that a restarted or failed-over S3 server costs a pipeline a
 * pause, not its run. Client errors (4xx: not found, denied, precondition) fail at once. Unlike
 * the SDK's standard strategy there is no shared retry quota: under a long outage every request
 * keeps waiting rather than failing fast.
 */
export class OutageRetry implements RetryStrategyV2 {
  constructor(
    private readonly budgetMs: number,
    private readonly firstDelayMs = 100,
    private readonly maxDelayMs = 5_000,
  ) {}

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return token(0, 0, Date.now());
  }

  async refreshRetryTokenForRetry(previous: RetryToken, error: RetryErrorInfo): Promise<RetryToken> {
    const { since } = previous as OutageToken;
    if (error.errorType === 'CLIENT_ERROR' || Date.now() - since > this.budgetMs) throw error.error ?? new Error('S3 request failed');
    const retries = previous.getRetryCount() + 1;
    const backoff = Math.min(this.maxDelayMs, this.firstDelayMs * 2 ** (retries - 1));
    const hinted = error.retryAfterHint ? error.retryAfterHint.getTime() - Date.now() : 0;
    // Full jitter: many workers waiting on one server do not come back in step.
    return token(retries, Math.max(hinted, Math.random() * backoff), since);
  }

  recordSuccess(): void {}
}

interface OutageToken extends RetryToken {
  /** When the first attempt was made. */
  since: number;
}

function token(retries: number, delay: number, since: number): OutageToken {
  return { getRetryCount: () => retries, getRetryDelay: () => delay, since };
}
