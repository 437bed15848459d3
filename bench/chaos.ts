import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { PrivateStack } from '../infra/local/private-stack';
import { connectClient } from '../infra/temporal-connection';
import { demoFilePath, loadDemoFile, uploadDemoDatasets } from '../cli/demo-specs';
import { startPipeline } from '../cli/pipelines';
import { validateSpec } from '../cli/spec-file';
import { temporalEnv } from '../schemas/environment';
import { subRun } from '../schemas/layout';
import type { PipelineSpec } from '../schemas/pipeline-spec';
import { ArtifactStore } from '../storage/artifact-store';
import { listCheckpoints, readManifest } from '../storage/checkpoints';
import type { PipelineResult } from '../workflows/pipeline';

/**
 * `npm run bench:chaos`: the quick demo's R1 pipeline (without its distillation, which needs the
 * student pipeline) under faults, against a run without any.
 * Both run on servers of the bench's own (infra/local/private-stack.ts) with worker processes
 * (`r1 worker`): one for orchestration and verification, two for rollouts and training. While the
 * faulty run goes on, every CHAOS_EVERY_S seconds (for at most CHAOS_FOR_S) one fault, chosen at
 * random, strikes: a rollout+train worker SIGKILLed or SIGTERMed (a new one starts), S3 killed for
 * 5-45 s, Temporal killed for 5-15 s. Printed: the faults, whether the pipeline completed, and
 * every checkpoint and published policy of both runs compared by SHA-256: a step lost or applied
 * twice would change the weights after it. Goal: identical weights, no step missing.
 */
const EVERY_S = Number(process.env.CHAOS_EVERY_S ?? 20);
const FOR_S = Number(process.env.CHAOS_FOR_S ?? 240);
const SEED = Number(process.env.CHAOS_SEED ?? 1);
/** The worker processes the chaos strikes: rollouts and training, as a GPU machine would serve them. */
const ENGINE_QUEUES = 'rollout,train';

/** A small deterministic generator, so that a chaos run can be repeated. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
}

class Workers {
  private readonly running = new Map<string, ChildProcess>();
  private next = 0;

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  start(queues: string): string {
    const name = `${queues}-${this.next++}`;
    const out = openSync(join(tmpdir(), `r1-chaos-${process.pid}-${name}.log`), 'a');
    this.running.set(name, spawn(process.execPath, [join(__dirname, '..', 'cli', 'r1.js'), 'worker', '--queues', queues], { env: this.env, stdio: ['ignore', out, out] }));
    return name;
  }

  /** Stops a rollout+train worker with `signal` and starts another in its place. */
  async replaceEngineWorker(signal: NodeJS.Signals, pick: () => number): Promise<string> {
    const engines = [...this.running.keys()].filter((n) => n.startsWith(ENGINE_QUEUES));
    const name = engines[Math.floor(pick() * engines.length)];
    const child = this.running.get(name)!;
    this.running.delete(name);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
    return `${signal} ${name}, started ${this.start(ENGINE_QUEUES)}`;
  }

  stopAll(): void {
    for (const child of this.running.values()) child.kill('SIGKILL');
    this.running.clear();
  }
}

/** Every checkpoint and published policy file of a pipeline, by phase, step and name, with its SHA-256. */
async function weights(store: ArtifactStore, result: PipelineResult, id: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const phase of result.phases) {
    for (const name of [phase.name, subRun.policy(phase.name), subRun.sft(phase.name), subRun.student(phase.name)]) {
      for (const c of await listCheckpoints(store, id, name)) {
        const manifest = await readManifest(store, { uri: store.uri(c.manifestKey) });
        for (const f of manifest.files) files.set(`${name} ${c.step} ${f.name}`, f.sha256);
      }
    }
  }
  return files;
}

async function runPipeline(client: Client, store: ArtifactStore, spec: PipelineSpec, id: string): Promise<PipelineResult> {
  const handle = await startPipeline(client, spec, id, { store });
  return handle.result();
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const stack = await PrivateStack.start(15000);
  // One intra-op thread per engine, as the demo's own worker: runs repeat bit for bit.
  Object.assign(process.env, stack.env, { R1_TASK_QUEUE_PREFIX: `r1-chaos-${process.pid}-`, R1_WORKER_THREADS: '1' });
  const workers = new Workers(process.env);
  try {
    const client = new Client({ connection: await connectClient(), namespace: temporalEnv().namespace });
    const store = ArtifactStore.fromEnv();
    const file = loadDemoFile(demoFilePath('quick'));
    // Distillation needs the student pipeline's checkpoint (cli/demo.ts); the rest of R1 runs on its own.
    const phases = (file.r1.phases as { kind: string }[]).filter((p) => p.kind !== 'distill');
    const spec = validateSpec({ ...file.r1, phases, datasets: await uploadDemoDatasets(store, file) }, 'the quick demo R1 without distillation');
    workers.start('orchestration,cpu');
    workers.start(ENGINE_QUEUES);
    workers.start(ENGINE_QUEUES);

    const began = Date.now();
    const reference = await runPipeline(client, store, spec, `chaos-reference-${process.pid}`);
    console.log(`reference run: ${((Date.now() - began) / 1000).toFixed(0)} s, ${reference.phases.length} phases`);

    const pick = random(SEED);
    const faults: string[] = [];
    const id = `chaos-${process.pid}`;
    let done = false;
    const faulty = runPipeline(client, store, spec, id).finally(() => (done = true));
    const chaosBegan = Date.now();
    while (!done && Date.now() - chaosBegan < FOR_S * 1000) {
      await Promise.race([faulty.catch(() => undefined), new Promise((r) => setTimeout(r, EVERY_S * 1000))]);
      if (done) break;
      const at = `${((Date.now() - chaosBegan) / 1000).toFixed(0)} s`;
      const kind = Math.floor(pick() * 4);
      if (kind < 2) {
        faults.push(`${at}: ${await workers.replaceEngineWorker(kind === 0 ? 'SIGKILL' : 'SIGTERM', pick)}`);
      } else {
        const server = kind === 2 ? 'S3' : 'Temporal';
        const seconds = server === 'S3' ? 5 + Math.floor(pick() * 41) : 5 + Math.floor(pick() * 11);
        faults.push(`${at}: ${server} down for ${seconds} s`);
        await (server === 'S3' ? stack.killS3() : stack.killTemporal());
        await new Promise((r) => setTimeout(r, seconds * 1000));
        await (server === 'S3' ? stack.startS3() : stack.startTemporal());
      }
      console.log(`  fault ${faults.at(-1)}`);
    }
    const result = await faulty;
    console.log(`faulty run: ${((Date.now() - chaosBegan) / 1000).toFixed(0)} s, ${faults.length} faults, pipeline completed with ${result.phases.length} phases`);

    const [expected, actual] = [await weights(store, reference, `chaos-reference-${process.pid}`), await weights(store, result, id)];
    const missing = [...expected.keys()].filter((k) => !actual.has(k));
    const extra = [...actual.keys()].filter((k) => !expected.has(k));
    const differ = [...expected.keys()].filter((k) => actual.has(k) && actual.get(k) !== expected.get(k));
    console.log(`checkpoint files: ${expected.size} in the reference run, ${actual.size} in the faulty run`);
    console.log(`  missing ${missing.length}, extra ${extra.length} (checkpoints saved at shutdowns), different ${differ.length}`);
    for (const k of [...missing, ...differ].slice(0, 10)) console.log(`  ! ${k}`);
    console.log(differ.length === 0 && missing.length === 0 ? 'identical weights: no step lost or applied twice' : 'WEIGHTS DIFFER');
  } finally {
    workers.stopAll();
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
