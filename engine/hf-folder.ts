/**
 * A Hugging Face model folder as a ModelSource: config.json, the weights in one
 * model.safetensors or in shards listed by model.safetensors.index.json (F32, F16 or BF16), and
 * the tokenizer files beside them (and, where there is no generation_config.json, the one
 * transformers would derive from config.json, so the checkpoint knows every end token). Only headers are read up front; each tensor is read from its
 * file when asked for, so no file is ever held whole.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHfConfig, generationConfigOf } from './hf-config';
import { readAt } from './read-at';
import { ASSET_FILES, type ModelSource } from './model-source';
import { parseSafetensorsHeader, safetensorsHeaderLength, toF32, type SafetensorsEntry } from './safetensors';

export const INDEX_FILE = 'model.safetensors.index.json';

export function openHfFolder(dir: string): ModelSource {
  const configFile = join(dir, 'config.json');
  if (!existsSync(configFile)) throw new Error(`${dir}: no config.json (not a Hugging Face model folder)`);
  const hfConfig = readJson(configFile);
  const config = fromHfConfig(hfConfig, configFile);
  const files = new Map<string, { fd: number; dataStart: number }>();
  const where = new Map<string, { file: string; entry: SafetensorsEntry }>();
  const close = () => {
    for (const f of files.values()) closeSync(f.fd);
  };
  try {
    for (const file of weightFiles(dir)) {
      const path = join(dir, file);
      const fd = openSync(path, 'r');
      const size = fstatSync(fd).size;
      files.set(file, { fd, dataStart: 0 });
      const headerLen = safetensorsHeaderLength(readAt(fd, 0, Math.min(8, size), path), size, path);
      const dataStart = 8 + headerLen;
      files.get(file)!.dataStart = dataStart;
      for (const entry of parseSafetensorsHeader(readAt(fd, 8, headerLen, path), size - dataStart, path)) {
        const seen = where.get(entry.name);
        if (seen) throw new Error(`${path}: tensor "${entry.name}" is also in ${seen.file}`);
        where.set(entry.name, { file, entry });
      }
    }
    const assets: Record<string, Uint8Array> = {};
    for (const name of ASSET_FILES) if (existsSync(join(dir, name))) assets[name] = readFileSync(join(dir, name));
    const generation = assets['generation_config.json'] ? undefined : generationConfigOf(hfConfig);
    if (generation) assets['generation_config.json'] = Buffer.from(JSON.stringify(generation, null, 2) + '\n');
    return {
      origin: dir,
      config,
      assets,
      shapes: Object.fromEntries([...where].map(([name, { entry }]) => [name, entry.shape])),
      read: (name) => {
        const found = where.get(name);
        if (!found) throw new Error(`${dir}: no tensor "${name}"`);
        const { fd, dataStart } = files.get(found.file)!;
        const { entry } = found;
        const bytes = readAt(fd, dataStart + entry.begin, entry.end - entry.begin, join(dir, found.file));
        // A fresh, aligned F32 read is the tensor itself: no second copy of a large tensor.
        const data = entry.dtype === 'F32' && bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) : toF32(bytes, entry.dtype);
        return { dims: entry.shape, data };
      },
      close,
    };
  } catch (err) {
    close();
    throw err;
  }
}

/** The weight files: the shards the index names (each checked to exist), or model.safetensors. */
function weightFiles(dir: string): string[] {
  const indexFile = join(dir, INDEX_FILE);
  if (existsSync(indexFile)) {
    const index = readJson(indexFile);
    const map = index.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new Error(`${indexFile}: weight_map is missing or not an object`);
    const shards = [...new Set(Object.values(map as Record<string, unknown>))];
    for (const shard of shards) {
      if (typeof shard !== 'string' || shard.includes('/')) throw new Error(`${indexFile}: weight_map names ${JSON.stringify(shard)}, not a file name`);
      if (!existsSync(join(dir, shard))) throw new Error(`${indexFile}: weight_map names ${shard}, which is not in ${dir} (missing shard)`);
    }
    return (shards as string[]).sort();
  }
  if (existsSync(join(dir, 'model.safetensors'))) return ['model.safetensors'];
  throw new Error(`${dir}: no model.safetensors or ${INDEX_FILE} (only safetensors weights are read)`);
}

function readJson(path: string): Record<string, unknown> {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}
