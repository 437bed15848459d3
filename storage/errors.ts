/**
 * Errors the rest of the product must tell apart. Their `name` is what Temporal records as the
 * failure type, so retry policies list these names as non-retryable.
 */

/** An object's bytes do not hash to what was recorded when it was written. Never retry: the data is bad. */
export class ChecksumMismatchError extends Error {
  override readonly name = 'ChecksumMismatchError';
  readonly nonRetryable = true;
  constructor(
    readonly uri: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`checksum mismatch for ${uri}: expected sha256 ${expected}, got ${actual}; the object is corrupt and was not used`);
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
