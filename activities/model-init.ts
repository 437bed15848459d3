import { log } from '@temporalio/activity';
import type { ChatSettings } from '../schemas/runtime';
import { textCodecOf } from './examples';
import type { ModelSource } from '../schemas/pipeline-spec';
import type { CheckpointRef } from '../schemas/refs';
import type { ArtifactStore } from '../storage/artifact-store';
import { latestVerifiedCheckpoint, readManifest, type SetAside } from '../storage/checkpoints';
import { withHeartbeats } from './heartbeat';
import { commitTrainerState, freshState, loadTrainerState } from './model-checkpoints';
import { producerEnvironment } from './provenance';

/** The checkpoint phase 0 starts from: new random weights, or an existing checkpoint checked end to end. */
export function modelInitActivities(store: ArtifactStore) {
  return {
    /**
     * The starting model, checked before any phase runs: its files' hashes and shapes, and that
     * its tokenizer and chat template serve the spec's chat settings (`chatTemplate: model` needs
     * a template in the checkpoint). `specHash`: of the settings that make it (in its manifest).
     */
    initModel: (input: { pipelineId: string; model: ModelSource; name: string; runtime: ChatSettings; specHash: string | null }): Promise<CheckpointRef> => withHeartbeats(async () => {
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
      // Random weights from the seed, in TypeScript: no engine took part.
      return commitTrainerState(store, { pipelineId: input.pipelineId, phase: input.name, step: 0 }, state, null, {}, producerEnvironment(null, input.specHash));
    }),

    /**
     * Where an interrupted phase left off: its latest checkpoint whose manifest and files verify,
     * or null. Newer ones that do not are set aside (and named, with why) rather than loaded.
     */
    findLatestCheckpoint: (input: { pipelineId: string; phase: string }): Promise<{ checkpoint: CheckpointRef | null; setAside: SetAside[] }> => withHeartbeats(async () => {
      const found = await latestVerifiedCheckpoint(store, input.pipelineId, input.phase);
      for (const skipped of found.setAside) log.warn('checkpoint failed verification and was set aside', { ...skipped });
      return found;
    }),
  };
}
