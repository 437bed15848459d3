import type { DatasetRef } from '../schemas/datasets';
import type { Phase, PipelineSpec } from '../schemas/pipeline-spec';
import type { CheckpointRef } from '../schemas/refs';
import type { Metrics } from '../schemas/metrics';
import type { PolicyRuntime } from '../schemas/runtime';
import type { Deployment } from './activities';

/** What every phase workflow receives from the pipeline. */
export interface PhaseInput<K extends Phase['kind'] = Phase['kind']> {
  pipelineId: string;
  deployment: Deployment;
  /** `<index>-<kind>` (schemas/layout.ts): the phase's name in storage, in ids and in search attributes. */
  name: string;
  index: number;
  phase: Extract<Phase, { kind: K }>;
  spec: Pick<PipelineSpec, 'seed' | 'runtime' | 'retention'>;
  /** The hash of this phase's resolved spec, recorded in every checkpoint it makes (null in runs started before it was). */
  specHash: string | null;
  /** The checkpoint this phase starts from (the previous phase's result). */
  base: CheckpointRef;
  /** The base model: the last pretraining result, else the starting model (rejection sampling may retrain from it). */
  baseModel: CheckpointRef;
  datasets: Record<string, DatasetRef>;
}

/** A phase's input without its own settings: what shared helpers need. */
export type PhaseContext = Omit<PhaseInput, 'phase'>;

/** The phase's seed: the pipeline's plus the phase's index. It orders the phase's data and seeds its engines. */
export const phaseSeed = (input: PhaseContext) => input.spec.seed + input.index;

/** The runtime this phase's engines start with: the spec's, and the phase's seed unless a stream of its own is asked for. */
export function policyRuntime(input: PhaseContext, seed = phaseSeed(input)): PolicyRuntime {
  return { ...input.spec.runtime, seed };
}

export interface PhaseResult {
  index: number;
  name: string;
  kind: Phase['kind'];
  checkpoint: CheckpointRef;
  metrics: Metrics;
  /** Evaluations by label (`teacher`, `student`, `step-20`, ...). */
  evals: Record<string, Metrics>;
}
