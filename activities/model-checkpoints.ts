import { Context, log } from '@temporalio/activity';
import { decodeTrainerState, encodeTrainerState, type TrainerState } from '../engine/checkpoint';
import { initParameters, parameterShapes } from '../engine/model';
import { ASSET_FILES } from '../engine/model-source';
import { modelConfigSchema } from '../schemas/model';
import type { CheckpointRef } from '../schemas/refs';
import type { Metrics } from '../schemas/metrics';
import type { Producer, ProducerEnvironment } from '../schemas/manifest';
import type { ArtifactStore } from '../storage/artifact-store';
import { CheckpointShapeError } from './errors';
import { checkpointRefOf, commitCheckpoint, isCorruption, listCheckpoints, openCheckpointFiles, setAside } from '../storage/checkpoints';
import { BoundedCache } from './bounded-cache';

/** Trainer state <-> committed checkpoints, with the producing activity recorded for audit. */

/**
 * Asset files (tokenizer, chat template) by content hash: every checkpoint of a lineage carries
 * the same ones, so a process fetches them once.
 */
const assets = new BoundedCache<string, Promise<Buffer>>(16);

/** A committed checkpoint, every file hash-checked; `weightsOnly` leaves the optimizer state unread (a policy to sample from). */
export async function loadTrainerState(store: ArtifactStore, ref: { uri: string; sha256?: string }, opts: { weightsOnly?: boolean } = {}): Promise<TrainerState> {
  const files = await openCheckpointFiles(store, ref);
  const hashOf = new Map(files.manifest.files.map((f) => [f.name, f.sha256]));
  // Errors of reading (network, a corrupt object) keep their own retry semantics; the rest are the decoder's.
  const readErrors = new WeakSet<object>();
  const tagged = (err: unknown): never => {
    if (typeof err === 'object' && err !== null) readErrors.add(err);
    throw err;
  };
  const bytes = (name: string) => {
    if (!(ASSET_FILES as readonly string[]).includes(name)) return files.bytes(name).catch(tagged);
    const sha = hashOf.get(name)!;
    let cached = assets.get(sha);
    if (!cached) {
      cached = files.bytes(name);
      cached.catch(() => assets.delete(sha));
      assets.set(sha, cached);
    }
    return cached.catch(tagged);
  };
  async function* stream(name: string) {
    try {
      yield* files.stream(name);
    } catch (err) {
      tagged(err);
    }
  }
  try {
    return await decodeTrainerState({ names: files.names, bytes, stream }, (config) => parameterShapes(modelConfigSchema.parse(config)), opts);
  } catch (err) {
    if (readErrors.has(err as object)) throw err;
    // Streamed files are hash-checked only at their end, so a corrupt one may fail to decode
    // first: its hash names the real fault (each read throws ChecksumMismatchError on a mismatch).
    for (const name of files.names) for await (const _ of files.stream(name));
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
