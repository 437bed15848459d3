/**
 * `r1 demo --preset smol` (examples/demo-smol.yaml): SmolLM2-135M-Instruct imported into S3 once
 * (its GGUF from setup's tools folder), then one pipeline on it: held-out pass@1 as imported, a
 * small cold start, GRPO; printed as the demo's table with pass@1 before and after GRPO and the
 * time of a GRPO step.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { projectRoot } from '../infra/local/paths';
import { toolPath } from '../infra/local/tools';
import { IMPORTED_PHASE } from '../schemas/layout';
import type { PipelineSpec } from '../schemas/pipeline-spec';
import type { CheckpointRef } from '../schemas/refs';
import type { ArtifactStore } from '../storage/artifact-store';
import { temporalEnv } from '../schemas/environment';
import type { PipelineResult } from '../workflows/pipeline';
import { latestCheckpoint } from '../storage/checkpoints';
import { deviceSchema } from '../schemas/device';
import { AdditionTaskConfigSchema, generateAdditionDatasets } from '../tasks/addition';
import { importModel } from './import-model';
import { phaseRows, renderTable } from './phase-table';
import { startPipeline } from './pipelines';
import { validateSpec } from './spec-file';

const SmolDemoFileSchema = z.strictObject({
  task: AdditionTaskConfigSchema,
  /** The demo's own worker: its hardware. */
  worker: deviceSchema,
  /** A pipeline spec without its model (the imported SmolLM2) and datasets (the task's). */
  pipeline: z.record(z.string(), z.unknown()),
});
type SmolDemoFile = z.infer<typeof SmolDemoFileSchema>;

/** The name SmolLM2 is imported under; a second demo reuses the checkpoint. */
export const SMOLLM2_NAME = 'smollm2-135m-instruct';

/** The imported SmolLM2, importing it on first use. */
export async function smolLm2Checkpoint(store: ArtifactStore, log: (line: string) => void): Promise<CheckpointRef> {
  const existing = await latestCheckpoint(store, SMOLLM2_NAME, IMPORTED_PHASE);
  if (existing) return existing;
  log(`importing ${toolPath('smollm2')}`);
  return importModel(store, toolPath('smollm2'), { name: SMOLLM2_NAME, log });
}

export function loadSmolDemoFile(): SmolDemoFile {
  return SmolDemoFileSchema.parse(parseYaml(readFileSync(resolve(projectRoot, 'examples', 'demo-smol.yaml'), 'utf8'), { merge: true }));
}

/** The demo's pipeline on the model at `checkpoint`, its datasets inline (a few hundred short rows). */
export function smolDemoSpec(checkpoint: string): PipelineSpec {
  const file = loadSmolDemoFile();
  const data = generateAdditionDatasets(file.task);
  return validateSpec(
    {
      ...file.pipeline,
      model: { checkpoint },
      datasets: {
        coldstart: { kind: 'inline', rows: data.coldStart },
        prompts: { kind: 'inline', rows: data.prompts },
        heldout: { kind: 'inline', rows: data.heldout },
      },
    },
    'examples/demo-smol.yaml',
  );
}

export async function runSmolDemo(
  client: Client,
  store: ArtifactStore,
  opts: { id: string; ui?: string | null; log?: (line: string) => void; watch: (id: string) => Promise<PipelineResult> },
): Promise<string> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const began = Date.now();
  const model = await smolLm2Checkpoint(store, log);
  log(`SmolLM2-135M-Instruct: ${model.uri}`);
  const spec = smolDemoSpec(model.uri);
  await startPipeline(client, spec, opts.id);
  log(`\nSmolLM2: pipeline ${opts.id}`);
  if (opts.ui) log(`  Temporal UI: ${opts.ui}/namespaces/${temporalEnv().namespace}/workflows/${encodeURIComponent(opts.id)}`);
  const result = await opts.watch(opts.id);
  const rows = await phaseRows(client, 'SmolLM2', opts.id, result);
  const pass1 = (kind: string) => rows.find((r) => r.phase.endsWith(`-${kind}`))?.heldout?.pass1;
  const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  const grpo = result.phases.find((p) => p.kind === 'grpo');
  const grpoRow = rows.find((r) => r.phase.endsWith('-grpo'));
  const stepSeconds = grpo && grpoRow?.wallSeconds !== undefined ? grpoRow.wallSeconds / grpo.checkpoint.step : undefined;
  const table = [
    renderTable(rows),
    '',
    `held-out pass@1: as imported ${pct(pass1('eval'))}, after the cold start ${pct(pass1('sft'))}, after GRPO ${pct(pass1('grpo'))}`,
    `GRPO: ${grpo?.checkpoint.step ?? 0} steps, ${stepSeconds === undefined ? 'n/a' : `${stepSeconds.toFixed(1)} s`} a step (rollouts, update, checkpoints and the final evaluation included)`,
    `demo wall time: ${((Date.now() - began) / 1000).toFixed(0)}s in all`,
  ].join('\n');
  log(`\n${table}`);
  return table;
}
