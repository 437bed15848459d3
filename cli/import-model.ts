/**
 * `r1 import SRC [--name NAME]`: a Hugging Face model folder (local or an s3:// prefix) or a
 * GGUF file becomes a committed checkpoint: f32 weights under Hugging Face names, the model
 * config, and the tokenizer files and chat template, so any worker can load it from the
 * manifest alone. Everything is read and checked before the first upload, and the manifest is
 * written last, so a bad input commits nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { openGguf } from '../engine/gguf-model';
import { openHfFolder } from '../engine/hf-folder';
import { ASSET_FILES, readWeights, type ModelSource } from '../engine/model-source';
import { IMPORTED_PHASE, keys } from '../schemas/layout';
import { PipelineIdSchema } from '../schemas/pipeline-spec';
import type { CheckpointRef } from '../schemas/refs';
import type { ArtifactStore } from '../storage/artifact-store';
import { commitTrainerState } from '../activities/model-checkpoints';
import { producerEnvironment } from '../activities/provenance';

/** What `--name` defaults to: the source's last path segment, without .gguf, in the characters ids allow. */
export function defaultModelName(src: string): string {
  const last = basename(src.replace(/\/+$/, '')).replace(/\.gguf$/i, '');
  return last.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 100) || 'model';
}

export async function importModel(store: ArtifactStore, src: string, opts: { name?: string; log?: (line: string) => void } = {}): Promise<CheckpointRef> {
  const log = opts.log ?? (() => {});
  const name = PipelineIdSchema.parse(opts.name ?? defaultModelName(src));
  const where = { pipelineId: name, phase: IMPORTED_PHASE, step: 0 };
  const manifestKey = keys.manifest(store.key(keys.checkpointStep(name, IMPORTED_PHASE, 0)));
  if (await store.exists(manifestKey)) {
    throw new Error(`a model named ${name} is already imported (${store.uri(manifestKey)}); pass --name to import under another name`);
  }
  const local = src.startsWith('s3://') ? await download(store, src, log) : { path: src, cleanup: async () => {} };
  try {
    const source: ModelSource = local.path.toLowerCase().endsWith('.gguf') ? openGguf(local.path) : openHfFolder(local.path);
    try {
      log(`${src}: ${source.config.architecture}, ${source.config.numLayers} layers, hidden ${source.config.hiddenSize}, vocab ${source.config.vocabSize}`);
      const weights = readWeights(source);
      const producer = { workflowId: '(r1 import)', runId: '(none)', activity: `import ${src}` };
      // Read from files in TypeScript: no engine took part.
      return await commitTrainerState(store, where, { config: source.config, weights, assets: source.assets }, null, {}, producerEnvironment(null, null), producer);
    } finally {
      source.close();
    }
  } finally {
    await local.cleanup();
  }
}

/** An s3:// GGUF object, or the model files under an s3:// prefix, into a temporary folder. */
async function download(store: ArtifactStore, src: string, log: (line: string) => void): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'r1-import-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const key = store.keyOf(src);
    if (key.toLowerCase().endsWith('.gguf')) {
      const path = join(dir, basename(key));
      await store.adoptToFile(src, path);
      return { path, cleanup };
    }
    const prefix = key.endsWith('/') ? key : `${key}/`;
    const wanted = (file: string) => file === 'config.json' || file.endsWith('.safetensors') || file === 'model.safetensors.index.json' || (ASSET_FILES as readonly string[]).includes(file);
    let found = 0;
    for await (const object of store.list(prefix)) {
      const file = object.key.slice(prefix.length);
      if (file.includes('/') || !wanted(file)) continue;
      log(`fetching ${file} (${(object.bytes / 1e6).toFixed(1)} MB)`);
      await store.adoptToFile(store.uri(object.key), join(dir, file));
      found++;
    }
    if (found === 0) throw new Error(`${src}: no model files under this prefix`);
    return { path: dir, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
