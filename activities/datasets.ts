import type { ArtifactStore } from '../storage/artifact-store';
import type { DatasetRow } from '../schemas/pipeline-spec';
import { decodeDatasetRows, type DatasetRef } from './build-dataset';

const cache = new Map<string, DatasetRow[]>();

/** A dataset's rows, verified against its ref and kept in memory by content hash. */
export async function loadDataset(store: ArtifactStore, ref: DatasetRef): Promise<DatasetRow[]> {
  let rows = cache.get(ref.sha256);
  if (!rows) {
    rows = decodeDatasetRows((await store.getBytes(ref)).toString('utf8'), ref.uri);
    if (cache.size >= 16) cache.delete(cache.keys().next().value!);
    cache.set(ref.sha256, rows);
  }
  return rows;
}
