/**
 * LoRA's parameters: which projections a spec's `lora` adapts, their adapters' names, shapes and
 * first values, and the merge W + (alpha / rank) B A that everything outside the train step sees.
 * The adapted layer itself is model.ts's loraUpdate.
 *
 * Names are the projection's module name plus PEFT's suffixes:
 * `model.layers.0.self_attn.q_proj.lora_A.weight` [rank, in], `....lora_B.weight` [out, rank].
 */
import type { Lora } from '../schemas/lora';
import type { ModelConfig } from '../schemas/model';
import { parameterShapes, type Adapters } from './model';
import { Graph, type Value } from './onnx/builder';
import { Rng } from './rng';
import type { NamedTensors } from './tensors';

/** A LoRA phase's adapters (by tensor name) and the settings they were made for. */
export interface LoraState {
  config: Lora;
  adapters: NamedTensors;
}

export const loraScale = (lora: Lora) => lora.alpha / lora.rank;

/** The adapted projections: module name -> [out, in] of its weight. */
function adaptedModules(cfg: ModelConfig, lora: Lora): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, dims] of Object.entries(parameterShapes(cfg))) {
    const module = name.slice(0, -'.weight'.length);
    if (name.endsWith('.weight') && (lora.targets as string[]).includes(module.slice(module.lastIndexOf('.') + 1))) out[module] = dims;
  }
  return out;
}

const aName = (module: string) => `${module}.lora_A.weight`;
const bName = (module: string) => `${module}.lora_B.weight`;

/** Every adapter tensor and its shape. */
export function adapterShapes(cfg: ModelConfig, lora: Lora): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (const [module, [outDim, inDim]] of Object.entries(adaptedModules(cfg, lora))) {
    shapes[aName(module)] = [lora.rank, inDim];
    shapes[bName(module)] = [outDim, lora.rank];
  }
  return shapes;
}

/**
 * Fresh adapters as PEFT makes them: B zero, so training starts from the base model exactly, and
 * A from kaiming_uniform_(a=sqrt(5)), which is U(-1/sqrt(in), 1/sqrt(in)).
 */
export function initAdapters(cfg: ModelConfig, lora: Lora, seed: number): NamedTensors {
  const rng = new Rng(seed);
  const out: NamedTensors = {};
  for (const [name, dims] of Object.entries(adapterShapes(cfg, lora))) {
    const data = new Float32Array(dims[0] * dims[1]);
    if (name.endsWith('lora_A.weight')) {
      const bound = 1 / Math.sqrt(dims[1]);
      for (let i = 0; i < data.length; i++) data[i] = bound * (2 * rng.next() - 1);
    }
    out[name] = { dims, data };
  }
  return out;
}

/** Declares every adapter tensor as a graph input: by tensor name (to train) and by module (for the decoder). */
export function adapterInputs(g: Graph, cfg: ModelConfig, lora: Lora): { tensors: Record<string, Value>; adapters: Adapters } {
  const tensors: Record<string, Value> = {};
  const adapters: Adapters = {};
  for (const [module, [outDim, inDim]] of Object.entries(adaptedModules(cfg, lora))) {
    const a = g.input(aName(module), g.float, [lora.rank, inDim]);
    const b = g.input(bName(module), g.float, [outDim, lora.rank]);
    tensors[a.name] = a;
    tensors[b.name] = b;
    adapters[module] = { a, b, scale: loraScale(lora) };
  }
  return { tensors, adapters };
}

/**
 * Merged weights: inputs are the adapted weights (by their names; with `baseInitializers`, the
 * session's initializers instead, as in the train step) and the adapters; outputs
 * `merged.<weight name>` = W + scale B A, one GEMM each. Run as a graph because the products are
 * large (SmolLM2 with every projection adapted at rank 16: 1.7 GFLOP).
 */
export function mergeGraph(cfg: ModelConfig, lora: Lora, baseInitializers = false): Graph {
  const g = new Graph('float32');
  const { adapters } = adapterInputs(g, cfg, lora);
  for (const [module, dims] of Object.entries(adaptedModules(cfg, lora))) {
    const name = `${module}.weight`;
    const w = baseInitializers ? g.external(name, g.float, dims) : g.input(name, g.float, dims);
    const { a, b, scale } = adapters[module];
    g.output(g.add(w, g.mul(g.matmul(b, a), g.scalar(scale))), `merged.${w.name}`);
  }
  return g;
}
