import type { ArtifactRef } from '../schemas/refs';
import type { ArtifactStore } from '../storage/artifact-store';
import { decodeJsonl } from './jsonl';
import type { Timings } from './timings';

/**
 * Rollouts and scores this process just wrote, kept by content (uri and SHA-256): a trainer in
 * the same process reads them from memory instead of fetching and decoding them back from S3.
 * Bounded by the files' size in S3 (the most recent ones stay); a miss costs only the S3 read.
 */
export class RecentShards {
  private readonly files = new Map<string, { rows: readonly unknown[]; bytes: number }>();
  private bytes = 0;

  constructor(private readonly capacityBytes = 256 * 2 ** 20) {}

  remember(ref: ArtifactRef, rows: readonly unknown[]): void {
    if (ref.bytes > this.capacityBytes) return;
    const key = keyOf(ref);
    const before = this.files.get(key);
    if (before) {
      this.files.delete(key);
      this.bytes -= before.bytes;
    }
    this.files.set(key, { rows, bytes: ref.bytes });
    this.bytes += ref.bytes;
    for (const [key, file] of this.files) {
      if (this.bytes <= this.capacityBytes) break;
      this.files.delete(key);
      this.bytes -= file.bytes;
    }
  }

  async read<T>(store: ArtifactStore, ref: ArtifactRef, t: Timings): Promise<readonly T[]> {
    const kept = this.files.get(keyOf(ref));
    if (kept) return kept.rows as readonly T[];
    return decodeJsonl<T>(await t.time('s3', () => store.getBytes(ref)));
  }
}

const keyOf = (ref: ArtifactRef) => `${ref.uri}#${ref.sha256}`;
