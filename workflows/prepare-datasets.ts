import type { DatasetRef, S3DatasetSource } from '../schemas/datasets';
import { queues, type Deployment } from './activities';

export interface PrepareDatasetsInput {
  pipelineId: string;
  deployment: Deployment;
  datasets: Record<string, S3DatasetSource>;
}

/** Puts every dataset of the spec in S3 once; later phases read them by ref. */
export async function prepareDatasets(input: PrepareDatasetsInput): Promise<Record<string, DatasetRef>> {
  const { buildDataset } = queues(input.deployment).cpu;
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
