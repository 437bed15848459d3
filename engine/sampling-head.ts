/**
 * The part of sampling that is O(V) arithmetic, as graph nodes at the end of the decode graph,
 * where onnxruntime vectorises it: each token's weight exp((logit - max) / temperature) and the
 * row's log Σ exp(logits). What is left to JS (sampling.ts) is sums, comparisons and the draw;
 * done there, the V exponentials of each row cost about as much as the rest of a batch-8 draw
 * put together.
 */
import { Graph, Value } from './onnx/builder';

/**
 * `logits` [B, V] and a rank-0 `temperature` (> 0: fed 1 for greedy decoding, which reads no
 * weights) to `weights` [B, V] and `logNormaliser` [B], made graph outputs under those names.
 */
export function samplingHead(g: Graph, logits: Value, temperature: Value): void {
  const max = g.reduceMax(logits, [1], true);
  const shifted = g.sub(logits, max);
  const sumExp = g.reduceSum(g.exp(shifted), [1]);
  const [B, V] = logits.dims;
  g.output(g.emit('Add', [g.squeeze(max, 1), g.log(sumExp)], {}, logits.dtype, [B], 'logNormaliser'), 'logNormaliser');
  g.output(g.emit('Exp', [g.div(shifted, temperature)], {}, logits.dtype, [B, V], 'weights'), 'weights');
}

/** The head alone over fed logits: for tests and the sampling bench. */
export function samplingHeadGraph(vocabSize: number): Graph {
  const g = new Graph();
  samplingHead(g, g.input('logits', 'float32', ['B', vocabSize]), g.input('temperature', 'float32', []));
  return g;
}
