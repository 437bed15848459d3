import type { DatasetRef } from './datasets';
import type { GrpoConfig } from './grpo';
import type { Lora } from './lora';
import type { ProducerEnvironment } from './manifest';
import type { Metrics } from './metrics';
import type { Optimizer } from './optimizer';
import type { ArtifactRef, CheckpointRef } from './refs';
import type { RolloutRequest, RolloutResult } from './rollouts';
import type { PolicyRuntime } from './runtime';

/**
 * The training activities' contract. A phase's steps go to one trainer process, which keeps the
 * weights and optimizer state in memory; each call names the lineage it continues (`base`, and
 * for GRPO the last committed `checkpoint`), so a trainer that lost its memory restores and
 * replays instead of guessing. Step numbers are the idempotency keys.
 */

/** Which trainer: a phase's storage name within its pipeline (schemas/layout.ts). */
export interface TrainerOf {
  pipelineId: string;
  phase: string;
  /** The checkpoint the phase starts from (step 0 of its lineage). */
  base: CheckpointRef;
  /** Train LoRA adapters on the frozen `base` instead of every weight; the phase's checkpoints hold the merged weights. */
  lora?: Lora;
  runtime: PolicyRuntime;
  /** The hash of the phase's resolved spec, recorded in its checkpoints (null: a pipeline started before it was recorded). */
  specHash: string | null;
}

/** What every training call answers besides its result. */
export interface TrainerReply {
  /**
   * The trainer's process is shutting down: it committed what it trained, and the phase claims
   * another trainer for its next call.
   */
  trainerLeaving?: true;
}

/** Supervised steps (SFT or pretraining) up to `toStep`, ending in a committed checkpoint. */
export interface SftStepsInput extends TrainerOf {
  kind: 'pretrain' | 'sft';
  toStep: number;
  totalSteps: number;
  dataset: DatasetRef;
  batchSize: number;
  optimizer: Optimizer;
}

export interface SftStepsResult extends TrainerReply {
  step: number;
  checkpoint: CheckpointRef;
  metrics: Metrics;
  /** What produced `checkpoint`, as its manifest records it (null in manifests older than the record). */
  environment: ProducerEnvironment | null;
}

/** The data of one GRPO step: its rollouts (all shards, in order) and their scores (one file per shard, or one for the step). */
export interface GrpoStepData {
  step: number;
  rollouts: ArtifactRef[];
  rewards: ArtifactRef[];
}

/** Everything the engine's GRPO update needs besides the step's data, passed to it whole. */
export interface GrpoUpdateSettings {
  grpo: GrpoConfig;
  optimizer: Optimizer;
  totalSteps: number;
  /** The sampling limit: dr_grpo's constant normaliser. */
  maxNewTokens: number;
}

export interface GrpoStepInput extends TrainerOf {
  /** The phase's last committed checkpoint as the workflow knows it (null before the first). */
  checkpoint: CheckpointRef | null;
  /**
   * Every step since that checkpoint, this one last. A trainer that lost its memory restores the
   * checkpoint and replays them: each step is applied exactly once.
   */
  pending: GrpoStepData[];
  /** Commit a full checkpoint (weights, optimizer, generator) after this step. */
  commit: boolean;
  update: GrpoUpdateSettings;
  /**
   * Colocated rollouts: once the step is applied, sample the next step's rollouts here with the
   * new weights (which this process holds), instead of in an activity of their own.
   */
  next?: Omit<RolloutRequest, 'policy'>;
}

export interface GrpoStepResult extends TrainerReply {
  step: number;
  /** Weights after this step, for the next step's rollouts (no optimizer state). */
  policy: CheckpointRef;
  /** Set when this step committed a full checkpoint. */
  checkpoint: CheckpointRef | null;
  /** What produced `checkpoint`, as its manifest records it; null without one. */
  environment: ProducerEnvironment | null;
  metrics: Metrics;
  /** The next step's rollouts, when the input asked for them. */
  next?: RolloutResult;
}
