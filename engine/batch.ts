/**
 * Packing variable-length sequences into the graphs' right-padded [B, T] inputs.
 * Callers speak token-aligned arrays (entry j belongs to token j: "log p(token j | tokens < j)",
 * "token j is a completion token"); graphs speak target-aligned ones (position t predicts token
 * t+1). The shift between the two happens here and nowhere else.
 */
import { Tensor } from 'onnxruntime-node';

export interface PackedBatch {
  B: number;
  T: number;
  feeds: Record<string, Tensor>; // ids, targets, positions, attentionMask
  /** Token-aligned per-token arrays, shifted to target alignment, as [B, T] float tensors. */
  shift(perToken: readonly ArrayLike<number>[], name: string): Tensor;
  /** Target-aligned [B, T] graph output back to token-aligned arrays (entry 0 is 0). */
  unshift(out: Float32Array): Float32Array[];
}

export function packSequences(sequences: readonly Int32Array[]): PackedBatch {
  if (sequences.length === 0) throw new Error('packSequences: empty batch');
  const B = sequences.length;
  const T = Math.max(...sequences.map((s) => s.length));
  if (T < 2) throw new Error('packSequences: every batch needs a sequence of at least 2 tokens');
  const ids = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  const positions = new Int32Array(B * T);
  const attentionMask = new Float32Array(B * T);
  sequences.forEach((s, b) => {
    for (let t = 0; t < s.length; t++) {
      ids[b * T + t] = s[t];
      targets[b * T + t] = t + 1 < s.length ? s[t + 1] : 0;
      positions[b * T + t] = t;
      attentionMask[b * T + t] = 1;
    }
  });
  const dims = [B, T];
  return {
    B,
    T,
    feeds: {
      ids: new Tensor('int32', ids, dims),
      targets: new Tensor('int32', targets, dims),
      positions: new Tensor('int32', positions, dims),
      attentionMask: new Tensor('float32', attentionMask, dims),
    },
    shift(perToken, name) {
      if (perToken.length !== B) throw new Error(`${name}: ${perToken.length} rows for ${B} sequences`);
      const out = new Float32Array(B * T);
      perToken.forEach((row, b) => {
        const len = sequences[b].length;
        if (row.length !== len) throw new Error(`${name}[${b}] has ${row.length} entries, sequence ${b} has ${len} tokens`);
        for (let t = 0; t + 1 < len; t++) out[b * T + t] = row[t + 1];
      });
      return new Tensor('float32', out, dims);
    },
    unshift(out) {
      return sequences.map((s, b) => {
        const row = new Float32Array(s.length);
        for (let j = 1; j < s.length; j++) row[j] = out[b * T + j - 1];
        return row;
      });
    },
  };
}
