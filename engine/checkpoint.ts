import { modelConfigSchema } from '../schemas/model';
import { trainerStateFileSchema, type TrainerStateFile } from '../schemas/trainer-state';
import { adapterShapes, type LoraState } from './lora';
import { ASSET_FILES } from './model-source';
import type { RngState } from './rng';
import { checkShapes, readSafetensorsStream, shardSafetensors, shardsOfIndex, type StreamedFile } from './safetensors';
import type { NamedTensors } from './tensors';

/** Everything a trainer needs to continue exactly where it stopped. */
export interface TrainerState {
  config: unknown;
  /**
   * The weights as everything outside the trainer uses them: a LoRA phase's are merged
   * (W + alpha/rank B A), and its trainer resumes from the phase's base model and `lora` instead.
   */
  weights: NamedTensors;
  /** AdamW moments, one pair per trained parameter (each weight, or each LoRA adapter tensor) under its name, and the step count. */
  optimizer?: { m: NamedTensors; v: NamedTensors; step: number };
  lora?: LoraState;
  rng?: RngState;
  extra?: Record<string, unknown>;
  /**
   * Files that travel with the weights unchanged, by their Hugging Face names (ASSET_FILES): the
   * tokenizer, chat template and generation config of an imported model. None: the byte tokenizer.
   */
  assets?: Record<string, Uint8Array>;
}

/** A checkpoint file: small ones as bytes, tensor files made on demand (never one Buffer). */
export type CheckpointFile = Uint8Array | StreamedFile;

/**
 * Data bytes per tensor file of a checkpoint. Files stream in and out, so this bounds no memory;
 * it keeps each object well inside S3's limits and lets a restore fetch several at once later.
 */
export const CHECKPOINT_SHARD_BYTES = 2 * 1024 ** 3;

/**
 * The checkpoint files of a trainer state:
 * - model.safetensors (or model-0000k-of-0000n.safetensors + model.safetensors.index.json, as
 *   Hugging Face shards): the weights, f32, Hugging Face names (loadable by other tools);
 * - optimizer.safetensors, sharded the same way (only with an optimizer): `m.<param>` and
 *   `v.<param>`, f32;
 * - adapter_model.safetensors (a LoRA phase's): the adapters, as PEFT names its file;
 * - state.json: config, optimizer step, RNG state, LoRA settings, extra (schemas/trainer-state.ts);
 * - the assets (tokenizer files), as they are.
 * Everything stays f32 so a resumed run continues bit for bit.
 */
export function encodeTrainerState(s: TrainerState, shardBytes = CHECKPOINT_SHARD_BYTES): Record<string, CheckpointFile> {
  const state: TrainerStateFile = {
    format: 'r1-trainer-state/1',
    config: s.config,
    ...(s.optimizer && { optimizerStep: s.optimizer.step }),
    ...(s.rng && { rng: s.rng }),
    ...(s.lora && { lora: s.lora.config }),
    ...(s.extra && { extra: s.extra }),
  };
  const files: Record<string, CheckpointFile> = {
    ...tensorFiles(s.weights, 'model', shardBytes),
    'state.json': Buffer.from(JSON.stringify(trainerStateFileSchema.parse(state), null, 2) + '\n'),
  };
  if (s.optimizer) Object.assign(files, tensorFiles({ ...prefixed('m.', s.optimizer.m), ...prefixed('v.', s.optimizer.v) }, 'optimizer', shardBytes));
  if (s.lora) Object.assign(files, tensorFiles(s.lora.adapters, 'adapter_model', shardBytes));
  for (const [name, bytes] of Object.entries(s.assets ?? {})) {
    if (!(ASSET_FILES as readonly string[]).includes(name)) throw new Error(`asset ${name} is not one a checkpoint carries (${ASSET_FILES.join(', ')})`);
    files[name] = bytes;
  }
  return files;
}

function tensorFiles(tensors: NamedTensors, base: string, shardBytes: number): Record<string, CheckpointFile> {
  const { files, index } = shardSafetensors(tensors, base, shardBytes);
  return index ? { ...files, [index.name]: index.json } : files;
}

/** How a checkpoint's files are read: the small ones whole, tensor files as streams. */
export interface CheckpointFiles {
  names: readonly string[];
  bytes(name: string): Promise<Uint8Array>;
  stream(name: string): AsyncIterable<Uint8Array>;
}

/** Files held in memory (tests, and encodeTrainerState's output read back). */
export function filesInMemory(files: Record<string, CheckpointFile>): CheckpointFiles {
  const whole = (name: string): Uint8Array => {
    const f = files[name];
    if (f === undefined) throw new Error(`no file ${name}`);
    return f instanceof Uint8Array ? f : Buffer.concat([...f.chunks()]);
  };
  return {
    names: Object.keys(files),
    bytes: async (name) => whole(name),
    stream: (name) => (async function* () {
      const f = files[name];
      if (f instanceof Uint8Array) yield f;
      else yield* f.chunks();
    })(),
  };
}

/**
 * Reads files written by encodeTrainerState and refuses any tensor set that does not match the
 * model's parameter shapes. `expectedShapes` may be a function of the stored config, since on
 * resume the config is only known once state.json has been read. With `weightsOnly` (a policy
 * to sample from), the optimizer files are not read at all.
 */
export async function decodeTrainerState(
  files: CheckpointFiles,
  expectedShapes: Record<string, number[]> | ((config: unknown) => Record<string, number[]>),
  opts: { weightsOnly?: boolean } = {},
): Promise<TrainerState> {
  const need = (name: string) => {
    if (!files.names.includes(name)) throw new Error(`trainer checkpoint has no ${name} (files: ${files.names.join(', ') || 'none'})`);
    return name;
  };
  const stateBytes = await files.bytes(need('state.json'));
  let state: TrainerStateFile;
  try {
    state = trainerStateFileSchema.parse(JSON.parse(Buffer.from(stateBytes).toString('utf8')));
  } catch (err) {
    throw new Error(`state.json: not a valid trainer state: ${(err as Error).message}`, { cause: err });
  }
  const shapes = typeof expectedShapes === 'function' ? expectedShapes(state.config) : expectedShapes;

  const weights = await readTensorFiles(files, 'model');
  if (!weights) need('model.safetensors');
  checkShapes(weights!, shapes, 'model.safetensors');

  const out: TrainerState = { config: state.config, weights: weights! };
  const hasOptimizer = files.names.some((n) => n.startsWith('optimizer'));
  if (hasOptimizer !== (state.optimizerStep !== undefined)) {
    throw new Error('state.json and optimizer.safetensors disagree: optimizerStep and the optimizer file must come together');
  }
  // A LoRA phase trains its adapters: they and their moments are what it resumes from.
  const trained = state.lora && !opts.weightsOnly ? adapterShapes(modelConfigSchema.parse(state.config), state.lora) : shapes;
  if (state.lora && !opts.weightsOnly) {
    const adapters = await readTensorFiles(files, 'adapter_model');
    if (!adapters) need('adapter_model.safetensors');
    checkShapes(adapters!, trained, 'adapter_model.safetensors');
    out.lora = { config: state.lora, adapters: adapters! };
  }
  if (hasOptimizer && state.optimizerStep !== undefined && !opts.weightsOnly) {
    const moments = (await readTensorFiles(files, 'optimizer'))!;
    checkShapes(moments, { ...prefixed('m.', trained), ...prefixed('v.', trained) }, 'optimizer.safetensors');
    out.optimizer = { m: unprefixed('m.', moments), v: unprefixed('v.', moments), step: state.optimizerStep };
  }
  if (state.rng) out.rng = state.rng;
  if (state.extra) out.extra = state.extra;
  const assets = files.names.filter((n) => (ASSET_FILES as readonly string[]).includes(n));
  if (assets.length > 0) {
    out.assets = {};
    for (const name of assets) out.assets[name] = await files.bytes(name);
  }
  return out;
}

/** `<base>.safetensors`, or the shards its index names; undefined when neither is there. */
async function readTensorFiles(files: CheckpointFiles, base: string): Promise<NamedTensors | undefined> {
  const indexName = `${base}.safetensors.index.json`;
  const single = `${base}.safetensors`;
  const shards = files.names.includes(indexName) ? shardsOfIndex(await files.bytes(indexName), indexName, files.names) : files.names.includes(single) ? [single] : undefined;
  if (!shards) return undefined;
  const out: NamedTensors = {};
  for (const shard of shards) Object.assign(out, await readSafetensorsStream(files.stream(shard), shard));
  return out;
}

function prefixed<T>(prefix: string, record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [prefix + k, v]));
}

function unprefixed<T>(prefix: string, record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}
