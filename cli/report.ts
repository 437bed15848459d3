import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { decodeJsonl } from '../activities/jsonl';
import { keys, rewardsStep, subRun } from '../schemas/layout';
import type { ProducerEnvironment } from '../schemas/manifest';
import type { Metrics } from '../schemas/metrics';
import { describeEnvironment } from '../schemas/provenance';
import { correctnessOf, type SampleScore } from '../schemas/rewards';
import type { ArtifactRef, CheckpointRef } from '../schemas/refs';
import type { ArtifactStore } from '../storage/artifact-store';
import { readManifest } from '../storage/checkpoints';
import { readKeptOrRetiredManifest, runManifests } from '../storage/retention';
import type { PipelineResult } from '../workflows/pipeline';
import { phaseRows, TABLE_COLUMNS, type PhaseRow } from './phase-table';
import { escapeXml, linePlot } from './svg-plot';

/**
 * `r1 report <id>`: one self-contained HTML page for a finished pipeline (phase table, per-step
 * plots of every GRPO phase, checkpoint lineage), stored in S3 beside the run.
 *
 * Per-step metrics come from S3, not from workflow histories: each GRPO step commits a
 * weights-only policy checkpoint (`<phase>.policy`) whose manifest holds the trainer's metrics
 * (reward, KL, clip fractions, tokens), and the step's verified rewards
 * (`rewards/<phase>/step-N.jsonl` or `.../step-N/shard-K.jsonl`) give its accuracy. S3 holds them for as long as the run's
 * checkpoints, whatever the history retention of the Temporal namespace.
 */

interface StepPoint {
  step: number;
  metrics: Metrics;
  accuracy: number;
}

/** What each plot shows, from one step's data. */
const RL_PLOTS: { title: string; value: (p: StepPoint) => number }[] = [
  { title: 'reward (mean of the group rewards)', value: (p) => p.metrics.reward },
  { title: 'accuracy on rollouts', value: (p) => p.accuracy },
  { title: 'KL to the reference (k3)', value: (p) => p.metrics.kl },
  { title: 'clip fraction (low + high)', value: (p) => p.metrics.clipLow + p.metrics.clipHigh },
  { title: 'response length (tokens)', value: (p) => p.metrics.tokens / p.metrics.kept },
];

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

async function rlSteps(store: ArtifactStore, pipelineId: string, phase: string): Promise<StepPoint[]> {
  const values = new Map<number, number[]>();
  for await (const { key } of store.list(store.key(keys.rewards(pipelineId, phase)))) {
    const step = rewardsStep(key);
    if (step === null) continue;
    const scores = decodeJsonl<SampleScore>(await store.getBytes({ uri: store.uri(key) }));
    values.set(step, [...(values.get(step) ?? []), ...scores.map(correctnessOf)]);
  }
  const accuracy = new Map([...values].map(([step, xs]) => [step, mean(xs)]));
  const points: StepPoint[] = [];
  // Retention deletes policy snapshots once done with them; their manifests (and metrics) stay.
  for (const { step, manifest } of await runManifests(store, pipelineId, subRun.policy(phase))) {
    points.push({ step, metrics: manifest.metrics, accuracy: accuracy.get(step) ?? NaN });
  }
  return points;
}

interface LineageRow {
  checkpoint: string;
  parent: string;
  producer: string;
  sha256: string;
  createdAt: string;
}

/** `<phase> @ <step>`, prefixed by its pipeline when it is another one's (a pretrained student, R1-Zero's base). */
const nameOf = (ref: Pick<CheckpointRef, 'pipelineId' | 'phase' | 'step'>, pipelineId: string) =>
  `${ref.pipelineId === pipelineId ? '' : `${ref.pipelineId}/`}${ref.phase} @ ${ref.step}`;

/** Every committed checkpoint the phases' results descend from, oldest first, by manifest parent links. */
async function lineage(store: ArtifactStore, pipelineId: string, result: PipelineResult): Promise<LineageRow[]> {
  const seen = new Set<string>();
  const rows: LineageRow[] = [];
  for (const phase of result.phases) {
    const chain: LineageRow[] = [];
    for (let ref: CheckpointRef | null = phase.checkpoint; ref && !seen.has(ref.uri); ) {
      seen.add(ref.uri);
      const manifest = await readKeptOrRetiredManifest(store, ref);
      chain.push({
        checkpoint: nameOf(manifest, pipelineId),
        parent: manifest.parent ? nameOf(manifest.parent, pipelineId) : '(new weights)',
        producer: `${manifest.producer.workflowId} · ${manifest.producer.activity}`,
        sha256: ref.sha256.slice(0, 12),
        createdAt: manifest.createdAt,
      });
      ref = manifest.parent;
    }
    rows.push(...chain.reverse());
  }
  return rows;
}

interface ProducerRow {
  phase: string;
  checkpoint: string;
  environment: ProducerEnvironment | null;
}

/** What made each phase's result, from its checkpoint's manifest. */
async function producers(store: ArtifactStore, pipelineId: string, result: PipelineResult): Promise<ProducerRow[]> {
  const rows: ProducerRow[] = [];
  for (const phase of result.phases) {
    const manifest = await readManifest(store, phase.checkpoint);
    rows.push({ phase: phase.name, checkpoint: nameOf(manifest, pipelineId), environment: manifest.environment ?? null });
  }
  return rows;
}

function htmlTable(headers: string[], rows: string[][]): string {
  const cells = (tag: string, row: string[]) => `<tr>${row.map((c) => `<${tag}>${escapeXml(c)}</${tag}>`).join('')}</tr>`;
  return `<table><thead>${cells('th', headers)}</thead><tbody>${rows.map((r) => cells('td', r)).join('')}</tbody></table>`;
}

export interface ReportData {
  pipelineId: string;
  table: PhaseRow[];
  rl: { phase: string; points: StepPoint[] }[];
  lineage: LineageRow[];
  producers: ProducerRow[];
}

export async function collectReport(client: Client, store: ArtifactStore, pipelineId: string): Promise<ReportData> {
  const handle = client.workflow.getHandle(pipelineId);
  const status = (await handle.describe()).status.name;
  if (status !== 'COMPLETED') throw new Error(`${pipelineId} is ${status}: a report needs a completed pipeline`);
  const result: PipelineResult = await handle.result();
  const rl = [];
  for (const phase of result.phases.filter((p) => p.kind === 'grpo')) rl.push({ phase: phase.name, points: await rlSteps(store, pipelineId, phase.name) });
  return {
    pipelineId,
    table: await phaseRows(client, pipelineId, pipelineId, result),
    rl,
    lineage: await lineage(store, pipelineId, result),
    producers: await producers(store, pipelineId, result),
  };
}

export function renderReport(data: ReportData): string {
  const rlSections = data.rl.map(({ phase, points }) => {
    const steps = points.map((p) => p.step);
    const plots = RL_PLOTS.map((plot) => linePlot(plot.title, steps, points.map(plot.value))).join('\n');
    return `<h3>${escapeXml(phase)}</h3><div class="plots">${plots}</div>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>r1 report: ${escapeXml(data.pipelineId)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #111; }
table { border-collapse: collapse; margin: 1em 0; } th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th:nth-child(-n+2), td:nth-child(-n+2) { text-align: left; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; } .plot text { font-size: 11px; }
</style></head><body>
<h1>r1 report: ${escapeXml(data.pipelineId)}</h1>
<h2>Phases (held-out evaluation)</h2>
${htmlTable(TABLE_COLUMNS.map((c) => c.title), data.table.map((row) => TABLE_COLUMNS.map((c) => c.cell(row))))}
<p>pass@1: mean accuracy over k samples per held-out prompt; maj@k: the majority answer's accuracy; len: mean response length in tokens; wall: phase wall time.</p>
<h2>GRPO phases, per step</h2>
<p>From S3: the manifests of the per-step policy checkpoints (<code>&lt;phase&gt;.policy</code>) and the step's verified rewards.</p>
${rlSections.join('\n') || '<p>(no GRPO phase)</p>'}
<h2>What produced each phase</h2>
<p>From each phase's checkpoint manifest: code, Node, onnxruntime build and device, CPU instruction set, threads, and the hash of the phase's resolved spec. Runs repeat bit for bit only in the same environment, with one intra-op thread on the CPU.</p>
${htmlTable(['phase', 'checkpoint', 'made by', 'bit-reproducible'], data.producers.map((r) => [r.phase, r.checkpoint, r.environment ? describeEnvironment(r.environment) : '(not recorded)', reproducible(r.environment)]))}
<h2>Checkpoint lineage</h2>
${htmlTable(['checkpoint', 'parent', 'producer', 'sha256', 'created'], data.lineage.map((r) => [r.checkpoint, r.parent, r.producer, r.sha256, r.createdAt]))}
</body></html>
`;
}

function reproducible(environment: ProducerEnvironment | null): string {
  if (!environment) return 'unknown';
  return environment.warnings.length ? `no: ${environment.warnings.join('; ')}` : 'yes, in the same environment';
}

/** Builds the report, stores it at `pipelines/<id>/report.html` in S3 and returns its ref and text. */
export async function storeReport(client: Client, store: ArtifactStore, pipelineId: string): Promise<{ ref: ArtifactRef; html: string }> {
  const html = renderReport(await collectReport(client, store, pipelineId));
  const { ref } = await store.putBytes(store.key(keys.report(pipelineId)), Buffer.from(html));
  return { ref, html };
}

/** `r1 report <id> [-o file.html]`: also writes the page locally (default `r1-report-<id>.html`). */
export async function runReport(client: Client, store: ArtifactStore, pipelineId: string, out?: string): Promise<number> {
  const { ref, html } = await storeReport(client, store, pipelineId);
  const path = resolve(out ?? `r1-report-${pipelineId}.html`);
  writeFileSync(path, html);
  console.log(`report: ${path}\nstored:  ${ref.uri}`);
  return 0;
}
