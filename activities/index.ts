import { ArtifactStore } from '../storage/artifact-store';
import { datasetActivities } from './build-dataset';

/** Every activity of the product, bound to its dependencies. Workflows `import type` this. */
export function createActivities(store: ArtifactStore) {
  return {
    ...datasetActivities(store),
  };
}

export type Activities = ReturnType<typeof createActivities>;
