import type { ArtifactRef } from '../schemas/refs';
import type { ArtifactStore } from '../storage/artifact-store';
import { BoundedCache } from './bounded-cache';
import { decodeJsonl } from './jsonl';
import type { Timings } from './timings';

/**
 * Rollouts and scores this process just wrote, kept by content (uri and SHA-256): a trainer in
 * the same process reads them from memory instead of fetching and decoding them back from S3.
 * Bounded by the files' size in S3 (the most recent ones stay); a miss costs only the S3 read.
 */
export class RecentShards {
  private readonly files: BoundedCache<string, { rows: readonly unknown[]; bytes: number }>;

  constructor(capacityBytes = 256 * 2 ** 20) {
    this.files = new BoundedCache(capacityBytes, (file) => file.bytes);
  }

  remember(ref: ArtifactRef, rows: readonly unknown[]): void {
    this.files.set(keyOf(ref), { rows, bytes: ref.bytes });
  }

  async read<T>(store: ArtifactStore, ref: ArtifactRef, t: Timings): Promise<readonly T[]> {
    const kept = this.files.get(keyOf(ref));
    if (kept) return kept.rows as readonly T[];
    return decodeJsonl<T>(await t.time('s3', () => store.getBytes(ref)));
  }
}

const keyOf = (ref: ArtifactRef) => `${ref.uri}#${ref.sha256}`;
