import { createHash } from 'node:crypto';
import type { DatasetRow } from '../schemas/datasets';
import type { ChatSettings } from '../schemas/runtime';
import { chatFormatOf, type ChatFormat } from '../engine/chat-template';
import { tokenizerOf, type Tokenizer } from '../engine/tokenizer';
import { Rng } from '../engine/rng';
import { BoundedCache } from './bounded-cache';
import { BadDataError } from './errors';

/**
 * Dataset rows -> token sequences for the engine. Every choice here is a pure function of the
 * rows, the seed and the step, so a step replayed after a crash sees exactly the same batch.
 */

/** A model's tokenizer and the chat format of a runtime: how prompts become tokens. */
export interface TextCodec {
  tok: Tokenizer;
  chat: ChatFormat;
}

const codecs = new BoundedCache<string, TextCodec>(8);

/**
 * The codec of a model's checkpoint assets (its tokenizer files and chat template; none for the
 * byte-level models) under the runtime's chat settings, built once per process per content hash.
 */
export function textCodecOf(assets: Record<string, Uint8Array> | undefined, settings: ChatSettings): TextCodec {
  const hash = createHash('sha256');
  for (const name of Object.keys(assets ?? {}).sort()) hash.update(name).update(assets![name]);
  const key = `${hash.digest('hex')}/${settings.chatTemplate}/${settings.thinkPrefill}/${settings.systemPrompt ?? ''}`;
  let codec = codecs.get(key);
  if (!codec) {
    try {
      codec = { tok: tokenizerOf(assets), chat: chatFormatOf(assets, settings) };
    } catch (err) {
      throw new BadDataError(`the model's tokenizer or chat template: ${(err as Error).message}`);
    }
    codecs.set(key, codec);
  }
  return codec;
}

export interface Example {
  tokens: Int32Array;
  /** 1 where the loss trains on the token. */
  lossMask: Uint8Array;
}

function withBos(tok: Tokenizer, ids: number[]): number[] {
  return tok.bosId === undefined ? ids : [tok.bosId, ...ids];
}

/** The prompt as the model sees it: the chat template around the question (and BOS, unless the template writes its own). */
export function promptTokens({ tok, chat }: TextCodec, prompt: string): Int32Array {
  const ids = tok.encode(chat.render(prompt));
  return Int32Array.from(chat.ownSpecialTokens ? ids : withBos(tok, ids));
}

/** Plain text, every token trained on (the demo's pretraining). */
export function pretrainExample(tok: Tokenizer, row: DatasetRow, maxLen: number, where: string): Example {
  if (row.text === undefined) throw new BadDataError(`${where}: pretraining needs a "text" field`);
  const ids = [...withBos(tok, tok.encode(row.text)), tok.eosId].slice(0, maxLen);
  return { tokens: Int32Array.from(ids), lossMask: Uint8Array.from(ids, (_, i) => (i === 0 ? 0 : 1)) };
}

/** Prompt + completion; only the completion (and its EOS) is trained on. */
export function sftExample(codec: TextCodec, row: DatasetRow, maxLen: number, where: string): Example {
  if (row.prompt === undefined || row.completion === undefined) throw new BadDataError(`${where}: SFT needs "prompt" and "completion" fields`);
  const { tok } = codec;
  const prompt = Array.from(promptTokens(codec, row.prompt));
  const ids = [...prompt, ...tok.encode(row.completion), tok.eosId].slice(0, maxLen);
  return { tokens: Int32Array.from(ids), lossMask: Uint8Array.from(ids, (_, i) => (i < prompt.length ? 0 : 1)) };
}

/**
 * Row indices of the batch at `step` (counting from 1): epochs walk the data in an order shuffled
 * by (seed, epoch), so the data cursor is the step number and nothing else.
 */
export function batchIndices(rows: number, batchSize: number, seed: number, step: number): number[] {
  const out: number[] = [];
  for (let k = (step - 1) * batchSize; out.length < batchSize; k++) {
    const epoch = Math.floor(k / rows);
    out.push(epochOrder(rows, seed, epoch)[k % rows]);
  }
  return out;
}

const orders = new BoundedCache<string, number[]>(64);

function epochOrder(rows: number, seed: number, epoch: number): number[] {
  const key = `${rows}/${seed}/${epoch}`;
  let order = orders.get(key);
  if (!order) {
    const rng = new Rng(seed * 1_000_003 + epoch);
    order = Array.from({ length: rows }, (_, i) => i);
    for (let i = rows - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    orders.set(key, order);
  }
  return order;
}
