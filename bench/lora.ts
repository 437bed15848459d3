/**
 * LoRA beside the full fine-tune (part of `npm run bench:engine`, run as BENCH_CONFIG=LoRA, alone):
 * SmolLM2-135M-Instruct with its real weights, an SFT and a GRPO (dapo) step at batch 8 x 128,
 * rank 16 on every attention and MLP projection, against the same steps training every weight.
 * LoRA runs twice: with the frozen base fed as inputs of every step (the CPU's default) and held
 * as session initializers (CUDA's default, forced here; trainer.ts InitOptions.loraBase).
 * Each runs in a process of its own, so each peak RSS is its own. Also timed: publishing the
 * policy after a step (exportState, as every GRPO step does: a copy of weights and moments, or
 * with LoRA the merge and a copy of the merged weights). Fastest of several steps, as elsewhere
 * in bench:engine.
 */
import { spawnSync } from 'node:child_process';
import * as trainer from '../engine/trainer';
import { openGguf } from '../engine/gguf-model';
import { readWeights } from '../engine/model-source';
import { toolPath } from '../infra/local/tools';
import { LoraSchema } from '../schemas/lora';
import { seconds, timed } from './timed';
import { trainBatch } from './train-batch';

const LORA = LoraSchema.parse({ rank: 16, alpha: 32, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });
const [BATCH, SEQ, STEPS] = [8, 128, 3];

const MODES = ['full', 'lora', 'lora-initializers'] as const;
type Mode = (typeof MODES)[number];
interface Figures {
  trained: number;
  sft: number;
  grpo: number;
  publishSeconds: number;
  peakRssMiB: number;
}

/** Runs both modes, each in a child process, and prints them side by side. */
export function benchLora(threads: number): void {
  console.log(`\nLoRA (rank ${LORA.rank}, alpha ${LORA.alpha}, ${LORA.targets.join(', ')}) vs full fine-tune: SmolLM2-135M-Instruct, batch ${BATCH} x seq ${SEQ}, ${threads} threads`);
  const figures = {} as Record<Mode, Figures>;
  for (const mode of MODES) {
    const r = spawnSync(process.execPath, [__filename, mode, String(threads)], { encoding: 'utf8', timeout: 1_200_000, stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`bench/lora ${mode} failed (${r.status ?? r.signal})`);
    figures[mode] = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Figures;
  }
  const { full, lora } = figures;
  const held = figures['lora-initializers'];
  const row = (what: string, f: (x: Figures) => string, ratio?: (x: Figures) => number) =>
    console.log(
      `  ${what.padEnd(26)} full ${f(full).padStart(12)}   LoRA ${f(lora).padStart(12)}   LoRA, base as initializers ${f(held).padStart(12)}` +
        (ratio ? `   LoRA / full = ${(ratio(lora) / ratio(full)).toFixed(2)}, with initializers ${(ratio(held) / ratio(full)).toFixed(2)}` : ''),
    );
  row('trained parameters', (x) => `${(x.trained / 1e6).toFixed(2)} M`);
  row('SFT step', (x) => `${x.sft.toFixed(0)} tok/s`, (x) => x.sft);
  row('GRPO step (dapo)', (x) => `${x.grpo.toFixed(0)} tok/s`, (x) => x.grpo);
  row('publish policy (export)', (x) => `${x.publishSeconds.toFixed(2)} s`);
  row('peak RSS', (x) => `${x.peakRssMiB.toFixed(0)} MiB`, (x) => x.peakRssMiB);
}

async function measure(mode: Mode, threads: number): Promise<Figures> {
  const gguf = openGguf(toolPath('smollm2'));
  const weights = readWeights(gguf);
  gguf.close();
  const lora = mode !== 'full' && { lora: LORA, loraBase: mode === 'lora' ? 'inputs' : 'initializers' } as const;
  await trainer.init({ config: gguf.config, seed: 1, weights, device: { kind: 'cpu', threads }, ...lora });
  const batch = trainBatch(BATCH, SEQ);
  const sft = batch.tokens / (await timed(STEPS, batch.sftStep));
  const grpo = batch.tokens / (await timed(STEPS, await batch.grpoStep()));
  // After a step, as a GRPO phase publishes its policy: with LoRA the merge is made afresh.
  let state!: trainer.ExportedState;
  const publishSeconds = await seconds(async () => (state = await trainer.exportState()));
  const trained = Object.values(state.optimizer.m).reduce((n, t) => n + t.data.length, 0);
  return { trained, sft, grpo, publishSeconds, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
}

if (require.main === module) {
  const [mode, threads] = process.argv.slice(2);
  measure(mode as Mode, Number(threads)).then(
    (f) => console.log(JSON.stringify(f)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
