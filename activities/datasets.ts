import type { ArtifactStore } from '../storage/artifact-store';
import type { DatasetRef, DatasetRow } from '../schemas/datasets';
import { BoundedCache } from './bounded-cache';
import { decodeDatasetRows } from './build-dataset';

const cache = new BoundedCache<string, DatasetRow[]>(16);

/** A dataset's rows, verified against its ref and kept in memory by content hash. */
export async function loadDataset(store: ArtifactStore, ref: DatasetRef): Promise<DatasetRow[]> {
  let rows = cache.get(ref.sha256);
  if (!rows) {
    rows = decodeDatasetRows((await store.getBytes(ref)).toString('utf8'), ref.uri);
    cache.set(ref.sha256, rows);
  }
  return rows;
}
