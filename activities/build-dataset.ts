import { heartbeat } from '@temporalio/activity';
import { DatasetRowSchema, type DatasetRef, type DatasetRow, type S3DatasetSource } from '../schemas/datasets';
import type { ArtifactStore } from '../storage/artifact-store';
import { BadDataError } from './errors';
import { withHeartbeats } from './heartbeat';

/** Parses and validates dataset JSONL, naming the line of the first bad row. */
export function decodeDatasetRows(text: string, what: string): DatasetRow[] {
  const rows: DatasetRow[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new BadDataError(`${what} line ${i + 1}: not JSON (${(err as Error).message})`);
    }
    const row = DatasetRowSchema.safeParse(value);
    if (!row.success) throw new BadDataError(`${what} line ${i + 1}: ${row.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    rows.push(row.data);
  });
  return rows;
}

export function datasetActivities(store: ArtifactStore) {
  return {
    /**
     * Reads one dataset of the spec from S3 (the client uploaded inline rows there before the
     * pipeline started), validates every row, and returns its ref: phases read datasets by ref
     * only, and every later read is checked against the hash taken here.
     */
    buildDataset: (input: { pipelineId: string; name: string; source: S3DatasetSource }): Promise<DatasetRef> => withHeartbeats(async () => {
      const { ref, body } = await store.adopt(input.source.uri);
      return { ...ref, rows: decodeDatasetRows(body.toString('utf8'), input.source.uri).length };
    }),
  };
}
