import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DatasetRef } from '../activities/build-dataset';
import type { DatasetSource } from '../schemas/pipeline-spec';
import { TASK_QUEUES } from './task-queues';

const { buildDataset } = proxyActivities<Activities>({
  taskQueue: TASK_QUEUES.cpu,
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['ChecksumMismatchError', 'ArtifactNotFoundError'] },
});

export interface PrepareDatasetsInput {
  pipelineId: string;
  datasets: Record<string, DatasetSource>;
}

/** Puts every dataset of the spec in S3 once; later phases read them by ref. */
export async function prepareDatasets(input: PrepareDatasetsInput): Promise<Record<string, DatasetRef>> {
  const names = Object.keys(input.datasets).sort();
  const refs = await Promise.all(
    names.map((name) =>
      buildDataset.executeWithOptions({ summary: `dataset ${name}` }, [
        { pipelineId: input.pipelineId, name, source: input.datasets[name] },
      ]),
    ),
  );
  return Object.fromEntries(names.map((name, i) => [name, refs[i]]));
}
