/** Greedy KV-cache (or recomputing) decoding speed of the trainer's current weights (bench/engine.ts, gpu.ts). */
import { Tensor } from 'onnxruntime-node';
import { createSession, type Device } from '../engine/device';
import { IncrementalDecoder } from '../engine/generate';
import { decodeGraph } from '../engine/graphs';
import * as trainer from '../engine/trainer';
import type { ModelConfig } from '../schemas/model';
import { PROMPT_LEN, randomSequences } from './train-batch';

/**
 * New tokens per second over `rows` rows of `newTokens` each, from random prompts. It runs the
 * decode graph on the engine's own session settings (device.ts) and picks tokens by argmax, so it
 * times the model and no tokenizer: models of random weights have none for their vocabulary.
 */
export async function decodeTokensPerSecond(model: ModelConfig, device: Device, opts: { rows: number; newTokens: number; useCache: boolean }): Promise<number> {
  const session = await createSession(decodeGraph(model).toModel(), device);
  const { weights } = await trainer.exportState();
  const feeds: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(weights)) feeds[k] = new Tensor('float32', t.data, t.dims);
  const V = model.vocabSize;
  const decode = async (newTokens: number) => {
    const decoder = new IncrementalDecoder((f) => session.run({ ...feeds, ...f }), model, randomSequences(opts.rows, PROMPT_LEN, 9), opts.useCache);
    let { logits } = await decoder.start();
    for (let step = 1; step < newTokens; step++) {
      const next = Int32Array.from({ length: opts.rows }, (_, b) => argmax(logits.subarray(b * V, (b + 1) * V)));
      ({ logits } = await decoder.step(next));
    }
  };
  // Untimed warm-up, as timed() does: a session's first runs also set up its kernels and arena.
  await decode(4);
  const t0 = process.hrtime.bigint();
  await decode(opts.newTokens);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await session.release();
  return (opts.rows * opts.newTokens) / seconds;
}

function argmax(xs: Float32Array): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}
