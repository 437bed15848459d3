import { Context } from '@temporalio/activity';
import { decodeTrainerState, encodeTrainerState, type TrainerState } from '../engine/checkpoint';
import { initParameters, parameterShapes } from '../engine/model';
import { modelConfigSchema } from '../schemas/model';
import type { CheckpointRef } from '../schemas/refs';
import type { Metrics } from '../schemas/metrics';
import type { Producer, ProducerEnvironment } from '../schemas/manifest';
import type { ArtifactStore } from '../storage/artifact-store';
import { CheckpointShapeError } from './errors';
import { commitCheckpoint, readCheckpointFiles } from '../storage/checkpoints';

/** Trainer state <-> committed checkpoints, with the producing activity recorded for audit. */

export async function loadTrainerState(store: ArtifactStore, ref: CheckpointRef): Promise<TrainerState> {
  const files = await readCheckpointFiles(store, ref);
  try {
    return decodeTrainerState(files, (config) => parameterShapes(modelConfigSchema.parse(config)));
  } catch (err) {
    // A checkpoint that does not fit its config will never load: retrying cannot help.
    throw new CheckpointShapeError(`checkpoint ${ref.uri}: ${(err as Error).message}`);
  }
}

/** The running activity, as the producer recorded in what it commits. */
export function activityProducer(): Producer {
  const info = Context.current().info;
  return {
    workflowId: info.workflowExecution?.workflowId ?? '(standalone)',
    runId: info.workflowExecution?.runId ?? '(standalone)',
    activity: info.activityType,
    attempt: info.attempt,
  };
}

export async function commitTrainerState(
  store: ArtifactStore,
  where: { pipelineId: string; phase: string; step: number },
  state: TrainerState,
  parent: CheckpointRef | null,
  metrics: Metrics,
  environment: ProducerEnvironment,
  producer: Producer = activityProducer(),
): Promise<CheckpointRef> {
  const { ref } = await commitCheckpoint(store, { ...where, files: encodeTrainerState(state), parent, producer, environment, metrics });
  return ref;
}

/** The weights a new model starts from: random from its config and seed (the demo's base models). */
export function freshState(config: unknown, seed: number): TrainerState {
  const parsed = modelConfigSchema.parse(config);
  return { config: parsed, weights: initParameters(parsed, seed) };
}
