/** JSON Lines, the format of every dataset, rollout and score file the activities write to S3. */

export function encodeJsonl(items: readonly unknown[]): Buffer {
  return Buffer.from(items.map((x) => JSON.stringify(x)).join('\n') + (items.length ? '\n' : ''));
}

/** Lines of a file this product wrote; datasets from users go through decodeDatasetRows instead. */
export function decodeJsonl<T>(body: Buffer): T[] {
  return body
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}
