/**
 * Model import/export figures for `npm run bench:engine` (needs the S3 of the embedded stack):
 * - SmolLM2-135M-Instruct: GGUF import, f32 export, re-import of the export; every tensor
 *   compared bit for bit; the time of each.
 * - A Qwen2.5-1.5B-shaped model of zeros (6.2 GB of f32; zeros are cheap to make): committed,
 *   exported and re-imported, each in a process of its own whose peak RSS is compared with the
 *   f32 weights (the state itself is 1.0x; the rest is what streaming costs).
 * Run as a child (`node dist/bench/model-io.js <step> <json>`), each step prints one JSON line.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { commitTrainerState, loadTrainerState } from '../activities/model-checkpoints';
import { producerEnvironment } from '../activities/provenance';
import { exportModel } from '../cli/export-model';
import { importModel } from '../cli/import-model';
import { parameterShapes } from '../engine/model';
import { numel } from '../engine/tensors';
import { stackUp } from '../infra/local/stack';
import { modelConfigSchema } from '../schemas/model';
import { s3Env } from '../schemas/environment';
import { ArtifactStore } from '../storage/artifact-store';

const QWEN25_15B = modelConfigSchema.parse({
  vocabSize: 151936, hiddenSize: 1536, intermediateSize: 8960, numLayers: 28, numHeads: 12, numKvHeads: 2,
  ropeTheta: 1e6, rmsNormEps: 1e-6, tieEmbeddings: true, qkvBias: true, architecture: 'qwen2', maxSeqLen: 32768,
});

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const rssMiB = () => process.resourceUsage().maxRSS / 1024;

/** One step of the large round trip, in this process: its time and this process's peak RSS. */
async function childStep(step: string, args: { prefix: string; uri?: string; dir?: string }): Promise<Record<string, unknown>> {
  const store = ArtifactStore.fromEnv({ ...s3Env(), prefix: args.prefix });
  const t0 = process.hrtime.bigint();
  if (step === 'commit') {
    const weights = Object.fromEntries(Object.entries(parameterShapes(QWEN25_15B)).map(([name, dims]) => [name, { dims, data: new Float32Array(numel(dims)) }]));
    const producer = { workflowId: '(bench)', runId: '(none)', activity: 'bench' };
    const ref = await commitTrainerState(store, { pipelineId: 'qwen25-zeros', phase: 'bench', step: 0 }, { config: QWEN25_15B, weights }, null, {}, producerEnvironment(null, null), producer);
    return { uri: ref.uri, seconds: seconds(t0), rssMiB: rssMiB() };
  }
  if (step === 'export') {
    await exportModel(store, args.uri!, args.dir!, { dtype: 'f32' });
    return { seconds: seconds(t0), rssMiB: rssMiB() };
  }
  const ref = await importModel(store, args.dir!, { name: 'qwen25-zeros-again' });
  const state = await loadTrainerState(store, ref);
  const nonZero = Object.values(state.weights).some((t) => t.data.some((v) => v !== 0));
  return { seconds: seconds(t0), rssMiB: rssMiB(), nonZero };
}

function runChild(step: string, args: object): Record<string, unknown> {
  const r = spawnSync(process.execPath, [__filename, step, JSON.stringify(args)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench step ${step} failed (exit ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

async function deletePrefix(store: ArtifactStore): Promise<void> {
  let batch: { Key: string }[] = [];
  const flush = async () => {
    if (batch.length) await store.client.send(new DeleteObjectsCommand({ Bucket: store.bucket, Delete: { Objects: batch } }));
    batch = [];
  };
  for await (const { key } of store.list(store.prefix)) {
    batch.push({ Key: key });
    if (batch.length === 1000) await flush();
  }
  await flush();
}

/** Prints the figures; `gguf` is SmolLM2's file (setup's tools folder), `large` runs the 1.5B round trip. */
export async function benchModelIo(gguf: string, opts: { large: boolean }): Promise<void> {
  await stackUp();
  const prefix = `bench-${randomUUID().slice(0, 8)}/`;
  const store = ArtifactStore.fromEnv({ ...s3Env(), prefix });
  await store.ensureBucket();
  const scratch = mkdtempSync(join(tmpdir(), 'r1-bench-'));
  try {
    console.log('\nSmolLM2-135M-Instruct: import (GGUF Q4_1 -> f32 checkpoint in S3), f32 export, re-import of the export');
    let t0 = process.hrtime.bigint();
    const ref = await importModel(store, gguf, { name: 'smollm2' });
    const importSeconds = seconds(t0);
    t0 = process.hrtime.bigint();
    await exportModel(store, ref.uri, join(scratch, 'smollm2'), { dtype: 'f32' });
    const exportSeconds = seconds(t0);
    t0 = process.hrtime.bigint();
    const again = await importModel(store, join(scratch, 'smollm2'), { name: 'smollm2-again' });
    const reimportSeconds = seconds(t0);
    const [a, b] = [await loadTrainerState(store, ref), await loadTrainerState(store, again)];
    const differing = Object.keys(a.weights).filter((n) => !Buffer.from(a.weights[n].data.buffer).equals(Buffer.from(b.weights[n]?.data.buffer ?? new ArrayBuffer(0))));
    console.log(`  import ${importSeconds.toFixed(1)} s, export ${exportSeconds.toFixed(1)} s, re-import ${reimportSeconds.toFixed(1)} s: round trip ${(importSeconds + exportSeconds + reimportSeconds).toFixed(1)} s`);
    console.log(`  ${Object.keys(a.weights).length} tensors, ${differing.length === 0 ? 'every one bit-identical in f32' : `${differing.length} differ: ${differing.slice(0, 3).join(', ')}`}`);

    if (!opts.large) return;
    const f32GiB = Object.values(parameterShapes(QWEN25_15B)).reduce((n, d) => n + numel(d), 0) * 4 / 1024 ** 3;
    console.log(`\nQwen2.5-1.5B-shaped model of zeros (${f32GiB.toFixed(2)} GiB of f32 weights, no optimizer), each step in its own process:`);
    const ratio = (r: Record<string, unknown>) => `peak RSS ${((r.rssMiB as number) / 1024).toFixed(2)} GiB = ${((r.rssMiB as number) / 1024 / f32GiB).toFixed(2)}x the f32 weights`;
    const commit = runChild('commit', { prefix });
    console.log(`  commit to S3 (shards streamed, multipart): ${(commit.seconds as number).toFixed(0)} s, ${ratio(commit)} (zero pages are never touched: not the figure to judge)`);
    const dir = join(scratch, 'qwen25');
    const exported = runChild('export', { prefix, uri: commit.uri, dir });
    console.log(`  export f32 (streamed from S3 into tensors, streamed to 2 shards): ${(exported.seconds as number).toFixed(0)} s, ${ratio(exported)}`);
    const reimported = runChild('import', { prefix, dir });
    console.log(`  re-import the export (read, then commit streamed), loaded back: ${(reimported.seconds as number).toFixed(0)} s, ${ratio(reimported)}${reimported.nonZero ? ' (NOT all zeros!)' : ''}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await deletePrefix(store);
  }
}

if (require.main === module) {
  const [step, json] = process.argv.slice(2);
  childStep(step, JSON.parse(json)).then(
    (out) => console.log(JSON.stringify(out)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
