import { heartbeat } from '@temporalio/activity';
import { DatasetRowSchema, type DatasetRef, type DatasetRow, type DatasetSource } from '../schemas/datasets';
import { keys } from '../schemas/layout';
import type { ArtifactStore } from '../storage/artifact-store';
import { BadDataError } from './errors';
import { encodeJsonl } from './jsonl';

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
     * Materialises one dataset of the spec as JSONL in S3 and returns its ref; phases read
     * datasets by ref only. A dataset already in S3 is validated and referenced where it is.
     */
    async buildDataset(input: { pipelineId: string; name: string; source: DatasetSource }): Promise<DatasetRef> {
      heartbeat(input.name);
      if (input.source.kind === 's3') {
        const { ref, body } = await store.adopt(input.source.uri);
        return { ...ref, rows: decodeDatasetRows(body.toString('utf8'), input.source.uri).length };
      }
      const body = encodeJsonl(input.source.rows);
      const { ref } = await store.putBytes(store.key(keys.dataset(input.pipelineId, input.name)), body);
      return { ...ref, rows: input.source.rows.length };
    },
  };
}
