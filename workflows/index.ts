/** Every workflow the worker registers (the bundle's entry point). */
export { r1Pipeline } from './pipeline';
export { prepareDatasets } from './prepare-datasets';
export { sftPhase } from './sft-phase';
export { grpoPhase } from './grpo-phase';
export { rejectionSamplingPhase } from './rejection-sampling-phase';
export { distillationPhase } from './distillation-phase';
export { evalPhase } from './eval-phase';
export { sampleShards } from './sample-dataset';
