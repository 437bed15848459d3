/**
 * Failures no retry can fix. Temporal records an error's class name as its failure type, and the
 * workflows list these names as non-retryable (workflows/activities.ts).
 */

/** A checkpoint whose tensors do not fit its model config. */
export class CheckpointShapeError extends Error {}

/** Rejection sampling or distillation found not one verified-correct sample to learn from. */
export class NoCorrectSamplesError extends Error {}
