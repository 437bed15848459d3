import { Context, log } from '@temporalio/activity';
import { decodeTrainerState, encodeTrainerState, type TrainerState } from '../engine/checkpoint';
import { initParameters, parameterShapes } from '../engine/model';
import { modelConfigSchema } from '../schemas/model';
import type { CheckpointRef } from '../schemas/refs';
import type { Metrics } from '../schemas/metrics';
import type { Producer, ProducerEnvironment } from '../schemas/manifest';
import type { ArtifactStore } from '../storage/artifact-store';
import { CheckpointShapeError } from './errors';
import { checkpointRefOf, commitCheckpoint, isCorruption, listCheckpoints, readCheckpointFiles, setAside } from '../storage/checkpoints';

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

/**
 * `latest`'s state, or, when it fails verification (a file altered or missing, a manifest that
 * does not parse, tensors that do not fit), the newest earlier checkpoint of its phase that loads:
 * each one skipped is set aside with its reason (storage/checkpoints.ts) and logged, never loaded.
 * Null when none loads.
 */
export async function loadNewestUsable(store: ArtifactStore, latest: CheckpointRef): Promise<{ checkpoint: CheckpointRef; state: TrainerState } | null> {
  let candidate: CheckpointRef | undefined = latest;
  while (candidate) {
    try {
      return { checkpoint: candidate, state: await loadTrainerState(store, candidate) };
    } catch (err) {
      if (!isCorruption(err) && !(err instanceof CheckpointShapeError)) throw err;
      const reason = (err as Error).message;
      log.warn('checkpoint failed verification: set aside, trying the one before it', { checkpoint: candidate.uri, reason });
      await setAside(store, candidate.uri, reason);
      const step: number = candidate.step;
      const earlier = (await listCheckpoints(store, latest.pipelineId, latest.phase)).filter((c) => c.step < step).at(-1);
      candidate = earlier && (await checkpointRefOf(store, latest.pipelineId, latest.phase, earlier));
    }
  }
  return null;
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
