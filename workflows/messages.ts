import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ProducerEnvironment } from '../schemas/manifest';
import type { CheckpointRef } from '../schemas/refs';
import type { Metrics } from '../schemas/metrics';
import type { PipelineStatus } from './search-attributes';

/** What `r1 status` and `r1 watch` show. */
export interface Progress {
  status: PipelineStatus;
  /** The running phase's name (`<index>-<kind>`), or `datasets` / `done`. */
  phase: string;
  step: number;
  totalSteps: number;
  metrics: Metrics;
  checkpoint: CheckpointRef | null;
  /** Results of finished phases, in order. */
  finished: { phase: string; metrics: Metrics }[];
}

export const progressQuery = defineQuery<Progress>('progress');

/** A phase tells its pipeline how far it is (child -> parent). */
export interface PhaseProgress {
  phase: string;
  step: number;
  totalSteps: number;
  metrics: Metrics;
  checkpoint: CheckpointRef | null;
  /** What produced the checkpoint this report comes with (absent between checkpoints and from older phases). */
  environment?: ProducerEnvironment | null;
}
export const phaseProgressSignal = defineSignal<[PhaseProgress]>('phaseProgress');

/** Pause holds the pipeline (and the running phase) at its next step boundary; resume releases it. */
export const pauseUpdate = defineUpdate<Progress>('pause');
export const resumeUpdate = defineUpdate<Progress>('resume');
/** Finish the current phase, then stop the pipeline with what it has. */
export const stopAfterPhaseUpdate = defineUpdate<Progress>('stopAfterPhase');

/** Forwarded by the pipeline to its running phase. */
export const pausedSignal = defineSignal<[boolean]>('paused');
