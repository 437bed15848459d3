import { decodeDatasetRows } from '../activities/build-dataset';
import { encodeJsonl } from '../activities/jsonl';
import type { S3DatasetSource } from '../schemas/datasets';
import { keys } from '../schemas/layout';
import type { PipelineSpec, StoredSpec } from '../schemas/pipeline-spec';
import type { ArtifactStore } from '../storage/artifact-store';
import { SpecError } from './spec-file';

/** How much of a dataset already in S3 is read to check that it begins with valid rows. */
const PEEK_BYTES = 1024 * 1024;

/**
 * Puts a spec's datasets where its workflows reach them by ref, before the pipeline starts: rows
 * written inline are uploaded (only refs travel through Temporal; megabytes of rows would not even
 * fit in a workflow's input), and datasets already in S3 are checked to exist and to begin with
 * valid rows, so that a wrong uri fails `r1 start` naming its spec path, not a phase later on.
 */
export async function storeDatasets(store: ArtifactStore, pipelineId: string, spec: PipelineSpec, source: string): Promise<StoredSpec> {
  const stored: Record<string, S3DatasetSource> = {};
  const problems: { path: string; message: string }[] = [];
  for (const [name, dataset] of Object.entries(spec.datasets)) {
    if (dataset.kind === 'inline') {
      const { ref } = await store.putBytes(store.key(keys.dataset(pipelineId, name)), encodeJsonl(dataset.rows));
      stored[name] = { kind: 's3', uri: ref.uri };
      continue;
    }
    const problem = await s3DatasetProblem(store, dataset.uri);
    if (problem) problems.push({ path: `datasets.${name}.uri`, message: problem });
    stored[name] = dataset;
  }
  if (problems.length > 0) throw new SpecError(source, problems);
  return { ...spec, datasets: stored };
}

async function s3DatasetProblem(store: ArtifactStore, uri: string): Promise<string | null> {
  let key: string;
  try {
    key = store.keyOf(uri);
  } catch {
    return `${uri} is not in this deployment's bucket (${store.bucket})`;
  }
  if (!(await store.exists(key))) return `no object at ${uri}`;
  const head = await store.peek(uri, PEEK_BYTES);
  // Only whole lines: the peek may end inside one.
  const whole = head.length < PEEK_BYTES ? head : head.subarray(0, head.lastIndexOf(0x0a) + 1);
  try {
    if (decodeDatasetRows(whole.toString('utf8'), uri).length === 0) return `${uri} holds no rows`;
  } catch (err) {
    return (err as Error).message;
  }
  return null;
}
