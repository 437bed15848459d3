/**
 * `r1 export CHECKPOINT DIR [--dtype bf16|f16|f32]`: a committed checkpoint as a folder
 * transformers loads as it is: config.json in the model's architecture's format, the weights as
 * safetensors shards of at most 5 GB with model.safetensors.index.json, the tokenizer files and
 * chat template the checkpoint carries, and generation_config.json. DIR may be an s3:// prefix.
 * Tensor files stream to disk or S3 (multipart); none is ever one Buffer.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { toHfConfig, type SpecialTokenIds } from '../engine/hf-config';
import { shardSafetensors, type SafetensorsDtype, type StreamedFile } from '../engine/safetensors';
import { tokenizerOf } from '../engine/tokenizer';
import { modelConfigSchema } from '../schemas/model';
import { ArtifactStore } from '../storage/artifact-store';
import { loadTrainerState } from '../activities/model-checkpoints';

export const EXPORT_DTYPES = { f32: 'F32', bf16: 'BF16', f16: 'F16' } as const satisfies Record<string, SafetensorsDtype>;
export type ExportDtype = keyof typeof EXPORT_DTYPES;
const TORCH_DTYPES = { f32: 'float32', bf16: 'bfloat16', f16: 'float16' } as const;

/** Hugging Face's default shard size (save_pretrained's max_shard_size "5GB"). */
export const EXPORT_SHARD_BYTES = 5e9;

export async function exportModel(
  store: ArtifactStore,
  checkpoint: string,
  dir: string,
  opts: { dtype?: ExportDtype; maxShardBytes?: number; log?: (line: string) => void } = {},
): Promise<string[]> {
  const dtype = opts.dtype ?? 'bf16';
  const log = opts.log ?? (() => {});
  const state = await loadTrainerState(store, { uri: checkpoint });
  const config = modelConfigSchema.parse(state.config);
  const assets = state.assets ?? {};
  const generation = generationConfig(assets);
  const ids: SpecialTokenIds = { bosTokenId: generation.bos_token_id, eosTokenId: generation.eos_token_id, padTokenId: generation.pad_token_id };
  const { files, index } = shardSafetensors(state.weights, 'model', opts.maxShardBytes ?? EXPORT_SHARD_BYTES, { dtype: EXPORT_DTYPES[dtype], metadata: { format: 'pt' } });
  const json = (v: unknown) => Buffer.from(JSON.stringify(v, null, 2) + '\n');
  const small: Record<string, Uint8Array> = {
    ...assets,
    'config.json': json(toHfConfig(config, ids, TORCH_DTYPES[dtype])),
    'generation_config.json': json(generation),
    ...(index && { [index.name]: index.json }),
  };
  const out = sink(store, dir);
  for (const [name, file] of Object.entries(files)) {
    log(`writing ${name} (${(file.bytes / 1e6).toFixed(1)} MB)`);
    await out.stream(name, file);
  }
  for (const [name, bytes] of Object.entries(small)) await out.bytes(name, bytes);
  return [...Object.keys(files), ...Object.keys(small)].sort();
}

interface GenerationConfig {
  bos_token_id?: number;
  eos_token_id?: number | number[];
  pad_token_id?: number;
  [key: string]: unknown;
}

/** The checkpoint's generation_config.json, or one naming the tokenizer's special ids (the byte-level models). */
function generationConfig(assets: Record<string, Uint8Array>): GenerationConfig {
  if (assets['generation_config.json']) return JSON.parse(Buffer.from(assets['generation_config.json']).toString('utf8')) as GenerationConfig;
  const tok = tokenizerOf(assets);
  return { bos_token_id: tok.bosId, eos_token_id: tok.stopIds.length === 1 ? tok.stopIds[0] : [...tok.stopIds], pad_token_id: tok.padId };
}

/** Where exported files go: a local folder, or keys under an s3:// prefix (any bucket the store's client reaches). */
function sink(store: ArtifactStore, dir: string): { stream(name: string, file: StreamedFile): Promise<void>; bytes(name: string, body: Uint8Array): Promise<void> } {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(dir);
  if (s3) {
    const [, bucket, prefix] = s3;
    const target = new ArtifactStore(store.client, bucket, prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`, store.partSizeBytes);
    return {
      stream: async (name, file) => void (await target.putChunks(target.key(name), file)),
      bytes: async (name, body) => void (await target.putBytes(target.key(name), body)),
    };
  }
  const ready = mkdir(dir, { recursive: true });
  return {
    stream: async (name, file) => {
      await ready;
      await pipeline(Readable.from(file.chunks()), createWriteStream(join(dir, name)));
    },
    bytes: async (name, body) => {
      await ready;
      await writeFile(join(dir, name), body);
    },
  };
}
