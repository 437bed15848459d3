import type { ChatSettings } from '../schemas/runtime';
import { textCodecOf } from './examples';
import type { ModelSource } from '../schemas/pipeline-spec';
import type { CheckpointRef } from '../schemas/refs';
import type { ArtifactStore } from '../storage/artifact-store';
import { latestCheckpoint, readManifest } from '../storage/checkpoints';
import { commitTrainerState, freshState, loadTrainerState } from './model-checkpoints';

/** The checkpoint phase 0 starts from: new random weights, or an existing checkpoint checked end to end. */
export function modelInitActivities(store: ArtifactStore) {
  return {
    /**
     * The starting model, checked before any phase runs: its files' hashes and shapes, and that
     * its tokenizer and chat template serve the spec's chat settings (`chatTemplate: model` needs
     * a template in the checkpoint).
     */
    async initModel(input: { pipelineId: string; model: ModelSource; name: string; runtime: ChatSettings }): Promise<CheckpointRef> {
      if ('checkpoint' in input.model) {
        const { ref } = await store.adopt(input.model.checkpoint);
        const manifest = await readManifest(store, ref);
        const checkpoint = { ...ref, pipelineId: manifest.pipelineId, phase: manifest.phase, step: manifest.step };
        const state = await loadTrainerState(store, checkpoint);
        textCodecOf(state.assets, input.runtime);
        return checkpoint;
      }
      textCodecOf(undefined, input.runtime);
      const state = freshState(input.model.config, input.model.seed);
      return commitTrainerState(store, { pipelineId: input.pipelineId, phase: input.name, step: 0 }, state, null, {});
    },

    /** Where an interrupted phase left off: its latest complete checkpoint, or null. */
    async findLatestCheckpoint(input: { pipelineId: string; phase: string }): Promise<CheckpointRef | null> {
      return latestCheckpoint(store, input.pipelineId, input.phase);
    },
  };
}
