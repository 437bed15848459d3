/** A float32 tensor as the engine passes it around: row-major data plus its shape. */
export interface TensorF32 {
  dims: number[];
  data: Float32Array;
}

/** Tensors by name; model parameters use Hugging Face names (`model.embed_tokens.weight`, ...). */
export type NamedTensors = Record<string, TensorF32>;

export function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
