import { Client } from '@temporalio/client';
import { parameterShapes } from '../engine/model';
import { stackUp } from '../infra/local/stack';
import { connectClient, connectWorker } from '../infra/temporal-connection';
import { temporalEnv } from '../schemas/environment';
import { modelConfigSchema } from '../schemas/model';
import type { PipelineSpec } from '../schemas/pipeline-spec';
import type { ArtifactRef } from '../schemas/refs';
import { ArtifactStore } from '../storage/artifact-store';
import type { Progress } from '../workflows/messages';
import type { PipelineResult } from '../workflows/pipeline';
import { createWorkers, runWorkers } from '../workers/worker';
import { installRuntime } from '../workers/runtime';
import { demoFilePath, loadDemoFile, PRESETS, r1Spec, r1ZeroSpec, uploadDemoDatasets, type DemoFile } from './demo-specs';
import { phaseRows, renderTable, type PhaseRow } from './phase-table';
import { startPipeline } from './pipelines';
import { storeReport } from './report';

/**
 * `npm start` / `r1 demo [--preset quick|full]`: the embedded stack and a worker in this
 * process, then the demo of examples/demo-<preset>.yaml: the R1 pipeline, then R1-Zero from the
 * same pretrained base, with live progress, a results table and an HTML report per run.
 */
export async function runDemo(preset = 'quick'): Promise<number> {
  if (!(PRESETS as readonly string[]).includes(preset)) {
    console.error(`unknown preset "${preset}"; choose from ${PRESETS.join(', ')}`);
    return 2;
  }
  const file = loadDemoFile(demoFilePath(preset));
  installRuntime('ERROR');
  const info = await stackUp((line) => console.log(line));
  console.log(`stack ready in ${(info.coldStartMs / 1000).toFixed(1)}s: Temporal ${info.temporalAddress}, S3 ${info.s3Endpoint}`);

  const group = await createWorkers({ connection: await connectWorker(), roles: ['orchestration', 'cpu', 'compute'] });
  const running = runWorkers(group);
  try {
    const client = new Client({ connection: await connectClient(), namespace: temporalEnv().namespace });
    const id = `demo-${preset}-${Date.now().toString(36)}`;
    await runDemoPipelines(client, ArtifactStore.fromEnv(), file, { id, ui: info.temporalUi });
    console.log('done. The embedded servers keep running; `npm run r1 -- stack down` stops them.');
    return 0;
  } finally {
    group.workers.forEach((w) => w.shutdown());
    await running;
  }
}

export interface DemoRun {
  id: string;
  spec: PipelineSpec;
  result: PipelineResult;
  rows: PhaseRow[];
  report: ArtifactRef;
}

/** Runs both pipelines of a demo file through whatever workers serve the queues; prints as it goes. */
export async function runDemoPipelines(
  client: Client,
  store: ArtifactStore,
  file: DemoFile,
  opts: { id: string; ui?: string | null; log?: (line: string) => void },
): Promise<{ r1: DemoRun; zero: DemoRun; table: string }> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const datasets = await uploadDemoDatasets(store, file);
  const run = async (label: string, id: string, spec: PipelineSpec): Promise<DemoRun> => {
    await startPipeline(client, spec, id);
    log(`\n${label}: pipeline ${id}`);
    if (opts.ui) log(`  Temporal UI: ${opts.ui}/namespaces/${temporalEnv().namespace}/workflows/${encodeURIComponent(id)}`);
    const result = await watchPipeline(client, id, log);
    const { ref } = await storeReport(client, store, id);
    log(`  report: ${ref.uri}  (r1 report ${id} writes it locally)`);
    return { id, spec, result, rows: await phaseRows(client, label, id, result), report: ref };
  };

  const r1 = await run('R1', opts.id, r1Spec(file, datasets));
  // The base both runs share: R1's pretrained model (or its starting model when it has no pretraining).
  const base = r1.result.phases.find((p) => p.kind === 'pretrain')?.checkpoint ?? r1.result.initial;
  const zero = await run('R1-Zero', `${opts.id}-zero`, r1ZeroSpec(file, datasets, base));

  const table = [renderTable([...r1.rows, ...zero.rows]), '', ...comparison(r1, zero)].join('\n');
  log(`\n${table}`);
  return { r1, zero, table };
}

const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(100 * x).toFixed(1)}%`);

function parameters(config: unknown): number {
  return Object.values(parameterShapes(modelConfigSchema.parse(config))).reduce((n, dims) => n + dims.reduce((a, b) => a * b, 1), 0);
}

/** The questions the demo asks, answered from the table's numbers. */
function comparison(r1: DemoRun, zero: DemoRun): string[] {
  const pass1 = (run: DemoRun, phase: string) => run.rows.find((r) => r.phase === phase)?.heldout?.pass1;
  const names = r1.result.phases.map((p) => p.name);
  const sft = names.find((n) => n.endsWith('-sft'));
  const grpo = names.filter((n) => n.endsWith('-grpo'));
  const lines: string[] = [];
  if (sft && grpo.length) {
    const before = pass1(r1, sft);
    for (const g of grpo) {
      const after = pass1(r1, g);
      const gain = before !== undefined && after !== undefined ? `${(100 * (after - before)).toFixed(1)} points` : 'n/a';
      lines.push(`GRPO (${g}) vs cold-start SFT: pass@1 ${pct(before)} -> ${pct(after)} (${gain})`);
    }
  }
  const distill = r1.result.phases.find((p) => p.kind === 'distill');
  const distillSpec = r1.spec.phases.find((p) => p.kind === 'distill');
  if (distill && distillSpec && 'config' in r1.spec.model) {
    const teacher = distill.evals.teacher?.pass1;
    const student = distill.evals.student?.pass1;
    const share = teacher ? `${(100 * (student ?? 0) / teacher).toFixed(0)}% of the teacher's` : 'n/a of the teacher';
    const [pt, ps] = [parameters(r1.spec.model.config), parameters(distillSpec.student.config)];
    lines.push(`distillation: student pass@1 ${pct(student)} = ${share} ${pct(teacher)}, with ${ps} / ${pt} parameters (${(ps / pt).toFixed(2)})`);
  }
  const zeroLast = zero.rows.at(-1);
  const zeroSteps = zero.result.phases.filter((p) => p.kind === 'grpo').reduce((n, p) => n + p.checkpoint.step, 0);
  // Pretraining is shared, so it counts for neither run.
  const wall = (run: DemoRun) => run.rows.filter((r) => !r.phase.endsWith('-pretrain')).reduce((t, r) => t + (r.wallSeconds ?? 0), 0).toFixed(0);
  lines.push(
    `R1-Zero: pass@1 ${pct(zeroLast?.heldout?.pass1)}, format ${pct(zeroLast?.heldout?.formatRate)} after ${zeroSteps} GRPO steps from the pretrained base, ` +
      `in ${wall(zero)}s (R1 after pretraining: ${wall(r1)}s)`,
  );
  return lines;
}

/** Polls the pipeline's `progress` query and draws one progress bar per phase until it finishes. */
async function watchPipeline(client: Client, id: string, log: (line: string) => void): Promise<PipelineResult> {
  const handle = client.workflow.getHandle(id);
  let done = false;
  const result = handle.result().finally(() => {
    done = true;
  });
  const bar = new ProgressBars(log);
  while (!done) {
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    if (done) break;
    const progress = await handle.query<Progress>('progress').catch(() => null);
    if (progress) bar.update(progress);
  }
  bar.finish();
  return result;
}

/**
 * One line per phase: redrawn in place on a terminal, printed at every tenth of the phase
 * otherwise (logs and CI). Live numbers: GRPO reward and rollout accuracy, SFT loss.
 */
class ProgressBars {
  private phase = '';
  private started = Date.now();
  private printedAt = -1;
  private line = '';
  private readonly tty = process.stdout.isTTY === true;

  constructor(private readonly log: (line: string) => void) {}

  update(p: Progress): void {
    if (p.phase !== this.phase) {
      this.finish();
      this.phase = p.phase;
      this.started = Date.now();
      this.printedAt = -1;
    }
    const width = 24;
    const fraction = p.totalSteps > 0 ? Math.min(1, p.step / p.totalSteps) : 0;
    const filled = Math.round(fraction * width);
    const live = (['reward', 'pass1', 'loss'] as const)
      .filter((k) => p.metrics[k] !== undefined)
      .map((k) => `${k === 'pass1' ? 'acc' : k} ${p.metrics[k].toFixed(3)}`)
      .join('  ');
    const seconds = ((Date.now() - this.started) / 1000).toFixed(0);
    this.line = `  ${p.phase.padEnd(22)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(p.step).padStart(4)}/${p.totalSteps}  ${live}  ${seconds}s`;
    if (this.tty) {
      process.stdout.write(`\r\x1b[K${this.line}`);
    } else if (Math.floor(fraction * 10) > this.printedAt) {
      this.printedAt = Math.floor(fraction * 10);
      this.log(this.line);
    }
  }

  /** Leaves the last state of the current phase on screen. */
  finish(): void {
    if (this.tty && this.line) process.stdout.write('\n');
    this.line = '';
  }
}
