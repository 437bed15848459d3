/**
 * Errors the rest of the product must tell apart. Their `name` is what Temporal records as the
 * failure type, so retry policies list these names as non-retryable.
 */

/** An object's bytes do not hash to what was recorded when it was written. Never retry: the data is bad. */
export class ChecksumMismatchError extends Error {
  override readonly name = 'ChecksumMismatchError';
  readonly nonRetryable = true;
  /** `expected` null: the object carries no hash of ours, so it was not written by this product (or was overwritten since). */
  constructor(
    readonly uri: string,
    readonly expected: string | null,
    readonly actual?: string,
  ) {
    super(
      expected === null
        ? `${uri} has no SHA-256 recorded (it was not written by r1, or was overwritten since): refused, as its content cannot be checked`
        : `checksum mismatch for ${uri}: expected sha256 ${expected}, got ${actual}; the object is corrupt and was not used`,
    );
  }
}

/** A checkpoint manifest that is not JSON or not a manifest: the message names the file. */
export class InvalidManifestError extends Error {
  override readonly name = 'InvalidManifestError';
  readonly nonRetryable = true;
  constructor(
    readonly uri: string,
    problem: string,
  ) {
    super(`manifest ${uri} is invalid: ${problem}`);
  }
}

/** An object that was asked for by ref does not exist. */
export class ArtifactNotFoundError extends Error {
  override readonly name = 'ArtifactNotFoundError';
  readonly nonRetryable = true;
  constructor(readonly uri: string) {
    super(`artifact not found: ${uri}`);
  }
}

const NETWORK_CODES = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'];

/** The store did not answer at all (as opposed to answering with an error). */
export function isNetworkError(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && NETWORK_CODES.includes(e.code)) return true;
  }
  return false;
}
