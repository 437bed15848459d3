/**
 * A model being imported, whatever it came from (a Hugging Face folder, a GGUF file): its config,
 * the files that travel with the weights unchanged (tokenizer, chat template, generation config),
 * and its tensors by Hugging Face name, read one at a time as f32.
 */
import type { ModelConfig } from '../schemas/model';
import { parameterShapes } from './model';
import type { NamedTensors, TensorF32 } from './tensors';

export interface ModelSource {
  /** Where it came from, for messages. */
  origin: string;
  config: ModelConfig;
  /** File name -> contents: tokenizer.json, tokenizer_config.json, chat_template.jinja, generation_config.json. */
  assets: Record<string, Uint8Array>;
  /** Every tensor the source holds, by Hugging Face name, with its shape. */
  shapes: Record<string, number[]>;
  read(name: string): TensorF32;
  close(): void;
}

/** The asset files a checkpoint carries beside its weights, as Hugging Face names them. */
export const ASSET_FILES = ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'generation_config.json', 'special_tokens_map.json'] as const;

/**
 * Every weight of the source, checked against the parameters its config asks for before any
 * data is read (so a wrong or missing tensor fails fast, naming it). Tensors the engine does
 * not use and that carry no information are dropped: a tied model's copied lm_head, rotary
 * caches some writers save.
 */
export function readWeights(source: ModelSource): NamedTensors {
  const expected = parameterShapes(source.config);
  const problems: string[] = [];
  for (const [name, dims] of Object.entries(expected)) {
    const got = source.shapes[name];
    if (!got) problems.push(`missing tensor "${name}" (shape [${dims}])`);
    else if (got.join(',') !== dims.join(',')) problems.push(`tensor "${name}" has shape [${got}], the config needs [${dims}]`);
  }
  const ignorable = (name: string) => name.endsWith('.rotary_emb.inv_freq') || (source.config.tieEmbeddings && name === 'lm_head.weight');
  for (const name of Object.keys(source.shapes)) {
    if (!(name in expected) && !ignorable(name)) problems.push(`unexpected tensor "${name}" (shape [${source.shapes[name]}])`);
  }
  if (problems.length > 0) throw new Error(`${source.origin}: ${problems.join('; ')}`);
  const out: NamedTensors = {};
  for (const name of Object.keys(expected)) out[name] = source.read(name);
  return out;
}
