import type { ModelSource } from '../schemas/pipeline-spec';
import type { CheckpointRef } from '../schemas/refs';
import type { ArtifactStore } from '../storage/artifact-store';
import { latestCheckpoint, readManifest } from '../storage/checkpoints';
import { commitTrainerState, freshState, loadTrainerState } from './model-checkpoints';
import { producerEnvironment } from './provenance';

/** The checkpoint phase 0 starts from: new random weights, or an existing checkpoint checked end to end. */
export function modelInitActivities(store: ArtifactStore) {
  return {
    /** `specHash`: of the settings that make the model (recorded in its manifest). */
    async initModel(input: { pipelineId: string; model: ModelSource; name: string; specHash: string | null }): Promise<CheckpointRef> {
      if ('checkpoint' in input.model) {
        const { ref } = await store.adopt(input.model.checkpoint);
        const manifest = await readManifest(store, ref);
        const checkpoint = { ...ref, pipelineId: manifest.pipelineId, phase: manifest.phase, step: manifest.step };
        await loadTrainerState(store, checkpoint); // every file hash-checked, shapes checked, before any phase runs
        return checkpoint;
      }
      const state = freshState(input.model.config, input.model.seed);
      // Random weights from the seed, in TypeScript: no engine took part.
      return commitTrainerState(store, { pipelineId: input.pipelineId, phase: input.name, step: 0 }, state, null, {}, producerEnvironment(null, input.specHash));
    },

    /** Where an interrupted phase left off: its latest complete checkpoint, or null. */
    async findLatestCheckpoint(input: { pipelineId: string; phase: string }): Promise<CheckpointRef | null> {
      return latestCheckpoint(store, input.pipelineId, input.phase);
    },
  };
}
