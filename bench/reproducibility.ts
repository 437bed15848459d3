/**
 * `npm run bench:reproducibility`: does training repeat bit for bit here? Trains the full demo's
 * R1 model (pretraining-shaped batches of random bytes, one seed) twice on one onnxruntime
 * intra-op thread and twice on two, each run in a fresh engine, and prints the SHA-256 of the
 * weights after each run with the engine's environment. Runs on other machines repeat these
 * hashes only with the same onnxruntime build and CPU instruction set: compare them across CPUs.
 */
import { createHash } from 'node:crypto';
import { Engine } from '../engine/engine';
import { Rng } from '../engine/rng';
import { describeMachine } from '../schemas/provenance';
import { OptimizerSchema } from '../schemas/optimizer';

const STEPS = Number(process.env.BENCH_STEPS ?? 100);
const MODEL = { vocabSize: 259, hiddenSize: 64, intermediateSize: 192, numLayers: 2, numHeads: 4, numKvHeads: 2, maxSeqLen: 160 };
const BATCH = 32;
const optimizer = OptimizerSchema.parse({ lr: 5e-3, warmupSteps: 20 });

async function train(threads: number): Promise<{ sha256: string; machine: string }> {
  const engine = await Engine.start({ config: MODEL, seed: 1, device: { kind: 'cpu', threads } });
  try {
    const data = new Rng(1);
    for (let step = 1; step <= STEPS; step++) {
      const sequences = Array.from({ length: BATCH }, () => Int32Array.from({ length: MODEL.maxSeqLen }, () => Math.floor(data.next() * 256)));
      await engine.sftStep({ sequences, lossMask: sequences.map((s) => new Uint8Array(s.length).fill(1)) }, { optimizer, step, totalSteps: STEPS });
    }
    const { weights } = await engine.exportState();
    const hash = createHash('sha256');
    for (const name of Object.keys(weights).sort()) {
      const { data } = weights[name];
      hash.update(name).update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    return { sha256: hash.digest('hex'), machine: describeMachine(engine.environment) };
  } finally {
    await engine.close();
  }
}

async function main(): Promise<void> {
  console.log(`${STEPS} SFT steps of ${BATCH} x ${MODEL.maxSeqLen} tokens, d=${MODEL.hiddenSize}, ${MODEL.numLayers} layers, seed 1, two runs per thread count`);
  for (const threads of [1, 2]) {
    const runs = [await train(threads), await train(threads)];
    console.log(`\n${runs[0].machine}`);
    for (const [i, run] of runs.entries()) console.log(`  run ${i + 1}: weights sha256 ${run.sha256}`);
    console.log(`  ${runs[0].sha256 === runs[1].sha256 ? 'identical' : 'DIFFERENT'}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
