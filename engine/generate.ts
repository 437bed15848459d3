/**
 * Batched sampling with a KV cache. Prompts are left-padded so every row's next token sits in the
 * last column; the prefill runs the decode graph with an empty cache, then each step feeds one
 * token per row and the cache grows by one. Rows that finish keep being fed (their output is
 * ignored) so the batch stays rectangular.
 */
import { Tensor } from 'onnxruntime-node';
import type { ModelConfig } from '../schemas/model';
import { headDim } from './model';
import type { Rng } from './rng';
import { sampleToken } from './sampling';
import type { Tokenizer } from './tokenizer';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 is greedy. */
  temperature: number;
  /** Nucleus sampling; 1 or absent is off. */
  topP?: number;
  /** Keep the k most likely tokens; 0 or absent is off. */
  topK?: number;
  /** Generation of a row stops once its text contains one of these (kept in the output). */
  stopStrings?: string[];
  /** Seed for this call; without it the trainer's generator is used, and advances. */
  seed?: number;
  /** false recomputes the whole sequence each step instead of using the cache (tests, benchmarks). */
  useCache?: boolean;
}

export interface Generation {
  /** The completion's tokens, the EOS token included when one was sampled. */
  tokens: Int32Array;
  /** log p(token) under the sampling policy at temperature 1 (the behaviour log-probs for GRPO). */
  logprobs: Float32Array;
  text: string;
  finishReason: 'eos' | 'stop' | 'length';
}

export type RunDecode = (feeds: Record<string, Tensor>) => Promise<Record<string, Tensor>>;

/** Produces next-token logits [B * V] for a batch of growing sequences. */
export class IncrementalDecoder {
  private readonly rows: number[][];
  private readonly pads: number[]; // left padding of each row
  private past: Record<string, Tensor> = {};

  constructor(
    private readonly run: RunDecode,
    private readonly cfg: ModelConfig,
    prompts: readonly Int32Array[],
    private readonly useCache = true,
  ) {
    if (prompts.length === 0 || prompts.some((p) => p.length === 0)) throw new Error('generate: needs prompts of at least one token');
    this.rows = prompts.map((p) => Array.from(p));
    const width = Math.max(...prompts.map((p) => p.length));
    this.pads = prompts.map((p) => width - p.length);
  }

  /** Logits after the prompts. */
  start(): Promise<Float32Array> {
    return this.forward(this.width());
  }

  /** Appends one token per row and returns the logits after it. */
  step(tokens: Int32Array): Promise<Float32Array> {
    this.rows.forEach((r, b) => r.push(tokens[b]));
    return this.forward(this.useCache ? 1 : this.width());
  }

  private width(): number {
    return this.rows[0].length + this.pads[0];
  }

  /** Runs the last `n` columns; the cache holds the ones before. */
  private async forward(n: number): Promise<Float32Array> {
    const B = this.rows.length;
    const width = this.width();
    const ids = new Int32Array(B * n);
    const positions = new Int32Array(B * n);
    const mask = new Float32Array(B * width);
    this.rows.forEach((row, b) => {
      const pad = this.pads[b];
      mask.fill(1, b * width + pad, (b + 1) * width);
      for (let col = 0; col < n; col++) {
        const c = width - n + col;
        ids[b * n + col] = c < pad ? 0 : row[c - pad];
        positions[b * n + col] = Math.max(0, c - pad);
      }
    });
    const out = await this.run({
      ids: new Tensor('int32', ids, [B, n]),
      positions: new Tensor('int32', positions, [B, n]),
      attentionMask: new Tensor('float32', mask, [B, width]),
      ...(this.useCache && width > n ? this.past : this.emptyCache(B)),
    });
    if (this.useCache) {
      for (let i = 0; i < this.cfg.numLayers; i++) {
        this.past[`past.${i}.key`] = out[`present.${i}.key`];
        this.past[`past.${i}.value`] = out[`present.${i}.value`];
      }
    }
    return out.logits.data as Float32Array;
  }

  private emptyCache(B: number): Record<string, Tensor> {
    const empty: Record<string, Tensor> = {};
    const dims = [B, this.cfg.numKvHeads, 0, headDim(this.cfg)];
    for (let i = 0; i < this.cfg.numLayers; i++) {
      empty[`past.${i}.key`] = new Tensor('float32', new Float32Array(0), dims);
      empty[`past.${i}.value`] = new Tensor('float32', new Float32Array(0), dims);
    }
    return empty;
  }
}

export async function generate(
  run: RunDecode, cfg: ModelConfig, tokenizer: Tokenizer,
  prompts: readonly Int32Array[], opts: GenerateOptions, rng: Rng,
): Promise<Generation[]> {
  const V = cfg.vocabSize;
  const sampling = {
    temperature: opts.temperature,
    ...(opts.topK ? { topK: opts.topK } : {}),
    ...(opts.topP !== undefined && opts.topP < 1 ? { topP: opts.topP } : {}),
  };
  const stops = opts.stopStrings ?? [];
  const out = prompts.map(() => ({ tokens: [] as number[], logprobs: [] as number[], text: '', finishReason: 'length' as Generation['finishReason'], done: false }));
  const decoder = new IncrementalDecoder(run, cfg, prompts, opts.useCache ?? true);
  let logits = await decoder.start();
  for (let step = 0; step < opts.maxNewTokens; step++) {
    const next = new Int32Array(prompts.length).fill(tokenizer.padId);
    out.forEach((o, b) => {
      if (o.done) return;
      const { token, logprob } = sampleToken(logits.subarray(b * V, (b + 1) * V), sampling, rng);
      o.tokens.push(token);
      o.logprobs.push(logprob);
      next[b] = token;
      if (token === tokenizer.eosId) {
        o.done = true;
        o.finishReason = 'eos';
      } else if (stops.length > 0) {
        const text = tokenizer.decode(o.tokens);
        const hit = firstStop(text, stops);
        if (hit !== undefined) {
          o.done = true;
          o.finishReason = 'stop';
          o.text = text.slice(0, hit);
        }
      }
    });
    if (out.every((o) => o.done) || step === opts.maxNewTokens - 1) break;
    logits = await decoder.step(next);
  }
  return out.map((o) => ({
    tokens: Int32Array.from(o.tokens),
    logprobs: Float32Array.from(o.logprobs),
    text: o.finishReason === 'stop' ? o.text : tokenizer.decode(o.tokens),
    finishReason: o.finishReason,
  }));
}

/** The end of the earliest stop string in `text`, if any. */
function firstStop(text: string, stops: readonly string[]): number | undefined {
  let best: number | undefined;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (best === undefined || i + s.length < best)) best = i + s.length;
  }
  return best;
}
