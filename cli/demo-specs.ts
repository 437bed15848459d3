import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { encodeJsonl } from '../activities/jsonl';
import { projectRoot } from '../infra/local/paths';
import type { DatasetRow, DatasetSource } from '../schemas/datasets';
import { deviceSchema } from '../schemas/device';
import { keys } from '../schemas/layout';
import type { PipelineSpec } from '../schemas/pipeline-spec';
import type { CheckpointRef } from '../schemas/refs';
import type { ArtifactStore } from '../storage/artifact-store';
import { ChainTaskConfigSchema, generateChainDatasets } from '../tasks/arithmetic-chain';
import { validateSpec } from './spec-file';

/**
 * A demo file (examples/demo-<preset>.yaml): the task that generates the datasets, the worker the demo starts, the R1
 * pipeline and the R1-Zero run, each a pipeline spec without its datasets (and, for R1-Zero,
 * without its model: it starts from R1's pretrained base). With `student`, a pipeline that
 * pretrains the distillation student's base runs first, and R1's distill phases that name no
 * student distill into that pretrained checkpoint (as real users distill into a pretrained small
 * model).
 */
export const DemoFileSchema = z.strictObject({
  task: ChainTaskConfigSchema,
  /** The demo's own worker: its hardware (one onnxruntime thread per engine repeats runs bit for bit). */
  worker: deviceSchema,
  student: z.record(z.string(), z.unknown()).optional(),
  r1: z.record(z.string(), z.unknown()),
  r1Zero: z.record(z.string(), z.unknown()),
});
export type DemoFile = z.infer<typeof DemoFileSchema>;

/** The presets of the arithmetic-chain demo files; `smol` (demo-smol.ts) is a real model's. */
export const PRESETS = ['quick', 'full'] as const;
export type Preset = (typeof PRESETS)[number];

export function demoFilePath(preset: string): string {
  return resolve(projectRoot, 'examples', `demo-${preset}.yaml`);
}

export function loadDemoFile(path: string): DemoFile {
  // merge: the presets share settings through YAML merge keys (`<<: *grpo`).
  return DemoFileSchema.parse(parseYaml(readFileSync(path, 'utf8'), { merge: true }));
}

/**
 * Generates the task's datasets and uploads them as JSONL: thousands of pretraining lines would
 * not fit in a Temporal payload as inline rows. Keys carry the task's hash, so a dataset
 * is written once per task config and shared by every run that uses it.
 */
export async function uploadDemoDatasets(store: ArtifactStore, file: DemoFile): Promise<Record<string, DatasetSource>> {
  const generated = generateChainDatasets(file.task);
  const tag = createHash('sha256').update(JSON.stringify(file.task)).digest('hex').slice(0, 12);
  const named: Record<string, DatasetRow[]> = { pretrain: generated.pretrain, coldstart: generated.coldStart, prompts: generated.prompts, heldout: generated.heldout };
  if (generated.distill.length > 0) named.distill = generated.distill;
  const sources: Record<string, DatasetSource> = {};
  for (const [name, rows] of Object.entries(named)) {
    const { ref } = await store.putBytes(store.key(keys.demoDataset(tag, name)), encodeJsonl(rows));
    sources[name] = { kind: 's3', uri: ref.uri };
  }
  return sources;
}

/** The pipeline that pretrains the student's base (the file's `student`), or null without one. */
export function studentSpec(file: DemoFile, datasets: Record<string, DatasetSource>): PipelineSpec | null {
  return file.student ? validateSpec({ ...file.student, datasets }, 'student of the demo file') : null;
}

/** R1; its distill phases without a `student` distill into `studentBase`, the student pipeline's pretrained checkpoint. */
export function r1Spec(file: DemoFile, datasets: Record<string, DatasetSource>, studentBase?: CheckpointRef): PipelineSpec {
  const phases = Array.isArray(file.r1.phases)
    ? file.r1.phases.map((p: unknown) =>
        studentBase && isRecord(p) && p.kind === 'distill' && p.student === undefined ? { ...p, student: { checkpoint: studentBase.uri } } : p,
      )
    : file.r1.phases;
  return validateSpec({ ...file.r1, phases, datasets }, 'r1 of the demo file');
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** R1-Zero starts from `base`, R1's pretrained checkpoint, so both runs share one base model. */
export function r1ZeroSpec(file: DemoFile, datasets: Record<string, DatasetSource>, base: CheckpointRef): PipelineSpec {
  return validateSpec({ ...file.r1Zero, model: { checkpoint: base.uri }, datasets }, 'r1Zero of the demo file');
}
