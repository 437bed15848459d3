/**
 * Names and places: the product's durable contract with its users' Temporal namespace and bucket.
 * Every phase name, workflow id and S3 key is made here, and read back here where something is
 * parsed. Free of zod, so that workflow code can use it.
 *
 * A pipeline's objects, below the deployment's prefix (ArtifactStore.key adds it):
 *
 *   pipelines/<id>/datasets/<name>.jsonl
 *   pipelines/<id>/checkpoints/<phase>/step-00000012/<sha256[:12]>-<file>   (then manifest.json, last;
 *                                                                           manifest.retired.json once retention deleted it)
 *   pipelines/<id>/rollouts/<phase>/step-00000012/shard-0.jsonl
 *   pipelines/<id>/rewards/<phase>/step-00000012/shard-0.jsonl             (scored where sampled)
 *   pipelines/<id>/rewards/<phase>/step-00000012.jsonl                     (scored on the CPU queue)
 *   pipelines/<id>/tensorboard/<phase>/events.out.tfevents.0000000001.r1       (TensorBoard, per checkpoint)
 *   pipelines/<id>/report.html
 *
 * `<phase>` is a phase's name (`<index>-<kind>`) or one of its sub-runs: `<phase>.policy` (the
 * weights GRPO publishes each step), `<phase>.sft` (the SFT of rejection sampling and
 * distillation, and its dataset), `<phase>.student-init` and `<phase>.student`, `<phase>.<label>`
 * (samples of a whole dataset: `samples`, `teacher`).
 */

/** `<index>-<kind>`: a phase's name in storage, in workflow ids and in search attributes. */
export const phaseName = (index: number, kind: string) => `${index}-${kind}`;

/** A phase's child workflow: `<pipelineId>/<index>-<kind>`. */
export const phaseWorkflowId = (pipelineId: string, phase: string) => `${pipelineId}/${phase}`;

/** A part of a phase's sampling fan-out (workflows/sample-dataset.ts): `<pipelineId>/<index>-<kind>/<label>-<part>`. */
export const samplingWorkflowId = (pipelineId: string, phase: string, label: string, part: number) => `${phaseWorkflowId(pipelineId, phase)}/${label}-${part}`;

/** The child workflow that puts a pipeline's datasets in S3. */
export const DATASETS = 'datasets';

export const subRun = {
  policy: (phase: string) => `${phase}.policy`,
  sft: (phase: string) => `${phase}.sft`,
  studentInit: (phase: string) => `${phase}.student-init`,
  student: (phase: string) => `${phase}.student`,
  samples: (phase: string, label: string) => `${phase}.${label}`,
};

/** The phase a storage name belongs to: `2-grpo` for `2-grpo.policy` (phase names hold no dot). */
export const phaseOfRun = (run: string) => run.split('.')[0];

/** The phase name of a model `r1 import` committed: `pipelines/<name>/checkpoints/import/step-00000000/`. */
export const IMPORTED_PHASE = 'import';

/** The name of a phase's starting model when the spec makes it anew. */
export const INITIAL_MODEL = 'init';

/** `step-00000042`: zero-padded so that S3 lists steps in order. */
export const stepName = (step: number) => `step-${String(step).padStart(8, '0')}`;

const pipeline = (pipelineId: string) => `pipelines/${pipelineId}`;

export const keys = {
  /** Everything of a pipeline. */
  pipeline: (pipelineId: string) => `${pipeline(pipelineId)}/`,
  dataset: (pipelineId: string, name: string) => `${pipeline(pipelineId)}/datasets/${name}.jsonl`,
  /** Every checkpoint of a pipeline, or of one phase. */
  checkpoints: (pipelineId: string, phase?: string) => `${pipeline(pipelineId)}/checkpoints/${phase === undefined ? '' : `${phase}/`}`,
  checkpointStep: (pipelineId: string, phase: string, step: number) => `${keys.checkpoints(pipelineId, phase)}${stepName(step)}/`,
  /** A checkpoint file's name carries its content hash: a zombie writing the same step cannot overwrite it. */
  checkpointFile: (stepFolder: string, sha256: string, name: string) => `${stepFolder}${sha256.slice(0, 12)}-${name}`,
  manifest: (stepFolder: string) => `${stepFolder}manifest.json`,
  /** Where a manifest that failed verification is set aside, with the reason (the step can then be committed again). */
  rejectedManifest: (stepFolder: string) => `${stepFolder}manifest.rejected.json`,
  /** Where retention keeps the manifest of a checkpoint it deleted, with when and why (storage/retention.ts). */
  retiredManifest: (stepFolder: string) => `${stepFolder}manifest.retired.json`,
  rolloutsOfStep: (pipelineId: string, phase: string, step: number) => `${pipeline(pipelineId)}/rollouts/${phase}/${stepName(step)}/`,
  rollouts: (pipelineId: string, phase: string, step: number, shard: number) => `${keys.rolloutsOfStep(pipelineId, phase, step)}shard-${shard}.jsonl`,
  rewards: (pipelineId: string, phase: string) => `${pipeline(pipelineId)}/rewards/${phase}/`,
  rewardsOfShard: (pipelineId: string, phase: string, step: number, shard: number) => `${keys.rewards(pipelineId, phase)}${stepName(step)}/shard-${shard}.jsonl`,
  rewardsOfStep: (pipelineId: string, phase: string, step: number) => `${keys.rewards(pipelineId, phase)}${stepName(step)}.jsonl`,
  report: (pipelineId: string) => `${pipeline(pipelineId)}/report.html`,
  /**
   * TensorBoard event files, a folder per run (a phase or sub-run): `tensorboard --logdir` on
   * `s3://<bucket>/<prefix>pipelines/<id>/tensorboard` shows each run's curves.
   */
  tensorboard: (pipelineId: string, run?: string) => `${pipeline(pipelineId)}/tensorboard/${run === undefined ? '' : `${run}/`}`,
  /** The events of a run's steps from `firstStep` on, written with the checkpoint that ends them; names sort by step. */
  eventFile: (pipelineId: string, run: string, firstStep: number) => `${keys.tensorboard(pipelineId, run)}events.out.tfevents.${String(firstStep).padStart(10, '0')}.r1`,
  /** The demo's generated task, shared by every run of the same task config. */
  demoDataset: (tag: string, name: string) => `demo-data/arithmetic-chain-${tag}/${name}.jsonl`,
  /** Written and read back by `r1 stack up` to see that the embedded S3 serves objects. */
  stackProbe: () => 'stack/ready-probe',
};

/** Whether a run (a phase or sub-run in storage) holds the policy snapshots GRPO publishes for rollouts. */
export const isPolicyRun = (run: string) => run === subRun.policy(phaseOfRun(run));

/** The run, step and step folder of any object under a pipeline's checkpoints, or null for another key. */
export function stepObject(key: string): { run: string; step: number; folder: string } | null {
  const match = /^(.*\/checkpoints\/([^/]+)\/step-(\d{8})\/)[^/]+$/.exec(key);
  return match ? { folder: match[1], run: match[2], step: Number(match[3]) } : null;
}

/** The step of a checkpoint's manifest key, or null for any other key. */
export function manifestStep(key: string): number | null {
  const match = /\/step-(\d{8})\/manifest\.json$/.exec(key);
  return match ? Number(match[1]) : null;
}

/** The shard of a rollouts key, or null for any other key. */
export function rolloutShard(key: string): number | null {
  const match = /\/rollouts\/[^/]+\/step-\d{8}\/shard-(\d+)\.jsonl$/.exec(key);
  return match ? Number(match[1]) : null;
}

/** The step of a rewards key (either layout), or null for any other key. */
export function rewardsStep(key: string): number | null {
  const match = /\/step-(\d{8})(\/shard-\d+)?\.jsonl$/.exec(key);
  return match ? Number(match[1]) : null;
}
