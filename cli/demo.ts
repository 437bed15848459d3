import { Client } from '@temporalio/client';
import { parameterShapes } from '../engine/model';
import { stackUp } from '../infra/local/stack';
import { connectClient, connectWorker } from '../infra/temporal-connection';
import { temporalEnv } from '../schemas/environment';
import { phaseName } from '../schemas/layout';
import { modelConfigSchema } from '../schemas/model';
import type { PipelineSpec } from '../schemas/pipeline-spec';
import type { ArtifactRef, CheckpointRef } from '../schemas/refs';
import { latestCheckpoint } from '../storage/checkpoints';
import { ArtifactStore } from '../storage/artifact-store';
import { describeRetention, storedBytes } from '../storage/retention';
import type { Progress } from '../workflows/messages';
import type { PipelineResult } from '../workflows/pipeline';
import { createWorkers, runWorkers } from '../workers/worker';
import { QUEUE_ROLES } from '../workflows/task-queues';
import { installRuntime } from '../workers/runtime';
import { demoFilePath, loadDemoFile, PRESETS, r1Spec, r1ZeroSpec, studentSpec, uploadDemoDatasets, type DemoFile } from './demo-specs';
import { phaseRows, producedOnLines, renderTable, type PhaseRow } from './phase-table';
import { startPipeline } from './pipelines';
import { storeReport } from './report';
import { loadSmolDemoFile, runSmolDemo } from './demo-smol';

/**
 * `npm start` / `r1 demo [--preset quick|full|smol]`: the embedded stack and a worker in this
 * process, then the demo of examples/demo-<preset>.yaml: the student's pretraining (when the file
 * has one), the R1 pipeline, and R1-Zero from R1's pretrained base beside it, with live progress,
 * a results table and an HTML report per run; `smol` runs a real pretrained model instead
 * (demo-smol.ts).
 */
export async function runDemo(preset = 'quick'): Promise<number> {
  if (preset !== 'smol' && !(PRESETS as readonly string[]).includes(preset)) {
    console.error(`unknown preset "${preset}"; choose from ${[...PRESETS, 'smol'].join(', ')}`);
    return 2;
  }
  const file = preset === 'smol' ? null : loadDemoFile(demoFilePath(preset));
  installRuntime('ERROR');
  const info = await stackUp((line) => console.log(line));
  console.log(`stack ready in ${(info.coldStartMs / 1000).toFixed(1)}s: Temporal ${info.temporalAddress}, S3 ${info.s3Endpoint}`);

  const group = await createWorkers({ connection: await connectWorker(), roles: [...QUEUE_ROLES], device: file ? file.worker : loadSmolDemoFile().worker });
  const running = runWorkers(group);
  try {
    const client = new Client({ connection: await connectClient(), namespace: temporalEnv().namespace });
    const id = `demo-${preset}-${Date.now().toString(36)}`;
    const store = ArtifactStore.fromEnv();
    if (file) await runDemoPipelines(client, store, file, { id, ui: info.temporalUi });
    else await runSmolDemo(client, store, { id, ui: info.temporalUi, watch: (run) => watchPipeline(client, run, new ProgressBars(console.log)) });
    console.log('done. The embedded servers keep running; `npm run r1 -- stack down` stops them.');
    return 0;
  } finally {
    group.shutdown();
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

/**
 * Runs the pipelines of a demo file through whatever workers serve the queues; prints as it goes.
 * Order: the student's base first (when the file has `student`: R1 distils into it), then R1;
 * R1-Zero starts from R1's pretrained base as soon as R1's pretraining is done and runs beside
 * the rest of R1 (each engine has one onnxruntime thread, so two runs share two cores).
 */
export async function runDemoPipelines(
  client: Client,
  store: ArtifactStore,
  file: DemoFile,
  opts: { id: string; ui?: string | null; log?: (line: string) => void },
): Promise<{ student: DemoRun | null; r1: DemoRun; zero: DemoRun; table: string }> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const began = Date.now();
  const datasets = await uploadDemoDatasets(store, file);
  const start = async (label: string, id: string, spec: PipelineSpec, say: (line: string) => void) => {
    await startPipeline(client, spec, id);
    say(`\n${label}: pipeline ${id}`);
    if (opts.ui) say(`  Temporal UI: ${opts.ui}/namespaces/${temporalEnv().namespace}/workflows/${encodeURIComponent(id)}`);
  };
  const finish = async (label: string, id: string, spec: PipelineSpec, result: PipelineResult, say: (line: string) => void): Promise<DemoRun> => {
    const { ref } = await storeReport(client, store, id);
    say(`  ${label} report: ${ref.uri}  (r1 report ${id} writes it locally)`);
    return { id, spec, result, rows: await phaseRows(client, label, id, result), report: ref };
  };
  /** A run's pretrained model: its last pretraining checkpoint, or its starting model when it has none. */
  const baseOf = (r: PipelineResult) => r.phases.filter((p) => p.kind === 'pretrain').at(-1)?.checkpoint ?? r.initial;

  let student: DemoRun | null = null;
  const studentBase = studentSpec(file, datasets);
  if (studentBase) {
    const id = `${opts.id}-student`;
    await start('Student', id, studentBase, log);
    student = await finish('Student', id, studentBase, await watchPipeline(client, id, new ProgressBars(log)), log);
  }

  const r1Id = opts.id;
  const r1 = r1Spec(file, datasets, student ? baseOf(student.result) : undefined);
  const r1Bars = new ProgressBars(log);
  // R1-Zero's lines go between R1's redraws, prefixed with its name.
  const zeroBars = new ProgressBars((line) => r1Bars.print(`  [R1-Zero] ${line.trimStart()}`), { tty: false });
  const zeroId = `${opts.id}-zero`;
  let zero: Promise<DemoRun> | undefined;
  const startZero = (base: CheckpointRef) => {
    const spec = r1ZeroSpec(file, datasets, base);
    const say = (line: string) => r1Bars.print(line);
    zero = (async () => {
      await start('R1-Zero', zeroId, spec, say);
      return finish('R1-Zero', zeroId, spec, await watchPipeline(client, zeroId, zeroBars), say);
    })();
    zero.catch(() => undefined); // awaited below; R1's own failure must not leave it unhandled
  };
  // The base both runs share: R1's last pretraining phase, committed when that phase finished.
  const lastPretrain = r1.phases.map((p, i) => ({ kind: p.kind, name: phaseName(i, p.kind) })).filter((p) => p.kind === 'pretrain').at(-1);
  await start('R1', r1Id, r1, (line) => r1Bars.print(line));
  const r1Result = await watchPipeline(client, r1Id, r1Bars, async (progress) => {
    if (zero || !lastPretrain || !progress.finished.some((f) => f.phase === lastPretrain.name)) return;
    const base = await latestCheckpoint(store, r1Id, lastPretrain.name);
    if (base) startZero(base);
  });
  if (!zero) startZero(baseOf(r1Result));
  const r1Run = await finish('R1', r1Id, r1, r1Result, (line) => r1Bars.print(line));
  const zeroRun = await zero!;

  const table = [
    renderTable([...(student?.rows ?? []), ...r1Run.rows, ...zeroRun.rows]),
    ...(await producedOnLines(store, [...(student ? [student.result] : []), r1Run.result, zeroRun.result])),
    await storageLine(store, [...(student ? [student] : []), r1Run, zeroRun]),
    '',
    ...comparison(r1Run, zeroRun, student),
    `demo wall time: ${((Date.now() - began) / 1000).toFixed(0)}s in all`,
  ].join('\n');
  log(`\n${table}`);
  return { student, r1: r1Run, zero: zeroRun, table };
}

/** What the runs hold in S3 at the end, and what their retention deleted on the way. */
async function storageLine(store: ArtifactStore, runs: DemoRun[]): Promise<string> {
  const stored = await Promise.all(runs.map((run) => storedBytes(store, run.id)));
  const sum = (key: keyof (typeof stored)[number]) => stored.reduce((n, s) => n + s[key], 0);
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  const policies = [...new Set(runs.map((run) => (run.spec.retention ? describeRetention(run.spec.retention) : 'everything')))].join('; ');
  return `S3 at the end: ${mb(sum('liveBytes') + sum('retiredBytes'))} before retention, ${mb(sum('liveBytes'))} after (${sum('retiredCheckpoints')} checkpoints deleted; kept: ${policies})`;
}

const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(100 * x).toFixed(1)}%`);

function parameters(config: unknown): number {
  return Object.values(parameterShapes(modelConfigSchema.parse(config))).reduce((n, dims) => n + dims.reduce((a, b) => a * b, 1), 0);
}

/** The questions the demo asks, answered from the table's numbers. */
function comparison(r1: DemoRun, zero: DemoRun, student: DemoRun | null): string[] {
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
  // The student's config: its own, or that of the pipeline that pretrained it.
  const studentModel = distillSpec && ('config' in distillSpec.student ? distillSpec.student : student?.spec.model);
  if (distill && distillSpec && 'config' in r1.spec.model) {
    const teacher = distill.evals.teacher?.pass1;
    const studentPass1 = distill.evals.student?.pass1;
    const share = teacher ? `${(100 * (studentPass1 ?? 0) / teacher).toFixed(0)}% of the teacher's` : 'n/a of the teacher';
    let size = '';
    if (studentModel && 'config' in studentModel) {
      const [pt, ps] = [parameters(r1.spec.model.config), parameters(studentModel.config)];
      size = `, with ${ps} / ${pt} parameters (${(ps / pt).toFixed(2)})`;
    }
    const from = 'checkpoint' in distillSpec.student ? 'pretrained student' : 'student from random weights';
    lines.push(`distillation: ${from} pass@1 ${pct(studentPass1)} = ${share} ${pct(teacher)}${size}`);
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

/** Polls the pipeline's `progress` query, draws its progress bars and hands each reading to `onProgress`, until it finishes. */
async function watchPipeline(client: Client, id: string, bar: ProgressBars, onProgress?: (p: Progress) => Promise<void>): Promise<PipelineResult> {
  const handle = client.workflow.getHandle(id);
  let done = false;
  const result = handle.result().finally(() => {
    done = true;
  });
  while (!done) {
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    if (done) break;
    const progress = await handle.query<Progress>('progress').catch(() => null);
    if (progress) {
      bar.update(progress);
      await onProgress?.(progress);
    }
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
  private readonly tty: boolean;

  constructor(
    private readonly log: (line: string) => void,
    opts: { tty?: boolean } = {},
  ) {
    this.tty = opts.tty ?? process.stdout.isTTY === true;
  }

  /** Prints a line of its own; on a terminal, the bar being redrawn moves below it. */
  print(line: string): void {
    if (this.tty && this.line) process.stdout.write('\r\x1b[K');
    this.log(line);
    if (this.tty && this.line) process.stdout.write(this.line);
  }

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
