/**
 * Several optimizer updates in one onnxruntime run: an ONNX Loop whose body is the whole
 * train-step graph (loss, gradient, clipping, AdamW; graphs.ts), carrying the trained values and
 * both AdamW moments from one iteration to the next. On a GPU every run() copies its inputs and
 * outputs between host and device (onnxruntime-node has no device-resident tensors, NOTES.md),
 * 24 bytes per trained parameter each way; a GRPO update of μ iterations x mini-batches so pays
 * that once instead of once per optimizer update.
 *
 * The looped graph takes what the step graph takes, under the same names, except the inputs of
 * each update: the batch inputs (those whose first dim is B) and `step` and `lr` (the schedule
 * may move from one update to the next) come stacked, `stack.<name>` [N, ...], one entry per
 * update, and the body reads entry `iteration` of each. Its outputs are the step graph's: the
 * `new.*` values after the last update, and each metric as [N], one per update.
 */
import { Tensor, type Tensor as OrtTensor } from 'onnxruntime-node';
import { Graph, type Value } from './onnx/builder';
import type { GraphProto, NodeProto } from './onnx/proto';

/** The prefix of an input of each update, stacked over the updates. */
const STACK = 'stack.';
/** The prefix of every value the body makes: ONNX lets a subgraph use the outer graph's names, not redefine them. */
const BODY = 'body/';

/**
 * The looped graph of `step`, a whole train-step graph whose trained values are `trained` (its
 * `m.<name>`, `v.<name>` and `new.*` follow graphs.ts) and whose scalar metrics are `metrics`.
 */
export function loopedStepGraph(step: Graph, trained: readonly string[], metrics: readonly string[]): Graph {
  const carried = [...trained, ...trained.map((n) => `m.${n}`), ...trained.map((n) => `v.${n}`)];
  const perUpdate = step.inputs.filter((v) => v.dims[0] === 'B' || v.name === 'step' || v.name === 'lr');
  const g = new Graph(step.float);
  const outer = step.inputs.filter((v) => !carried.includes(v.name) && !perUpdate.includes(v));
  for (const v of outer) g.input(v.name, v.dtype, v.dims);
  const stacked = perUpdate.map((v) => g.input(STACK + v.name, v.dtype, ['N', ...v.dims]));
  const initial = carried.map((name) => {
    const v = step.inputs.find((x) => x.name === name);
    if (!v) throw new Error(`loopedStepGraph: the step graph has no input ${name}`);
    return g.input(name, v.dtype, v.dims);
  });
  const trips = g.reshape(g.dimValue('N'), []);
  const proto = step.toGraphProto();
  // External constants (a LoRA base the session holds) move to the outer graph, under their own
  // names: onnxruntime finds a session's in-memory external data for the main graph's only.
  const external = proto.initializers.filter((t) => 'external' in t);
  for (const t of external) g.external(t.name, t.dtype, t.dims);
  const body = loopBody(proto, { carried, perUpdate: stacked.map((v, i) => [v, perUpdate[i].name]), outer: [...outer, ...external].map((v) => v.name), metrics });
  const outputs: Value[] = [
    ...initial.map((v) => ({ name: `new.${v.name}`, dtype: v.dtype, dims: v.dims })),
    ...metrics.map((name) => ({ name, dtype: step.float, dims: ['N'] })),
  ];
  g.emitMany('Loop', [trips, g.constant([1], 'bool', []), ...initial], { body: { kind: 'graph', value: body } }, outputs);
  for (const o of outputs) g.output(o, o.name);
  return g;
}

/**
 * The Loop's body: inputs (iteration, condition, carried values), then the step's nodes, reading
 * each update's inputs from the outer graph's stacks at `iteration`; outputs (condition, the
 * carried values' new ones, the metrics as scan outputs). Every name but the outer graph's is
 * prefixed, so none redefines one of the outer graph.
 */
function loopBody(
  step: GraphProto, names: { carried: string[]; perUpdate: [Value, string][]; outer: string[]; metrics: readonly string[] },
): GraphProto {
  const keep = new Set([...names.outer, ...names.perUpdate.map(([v]) => v.name)]);
  const local = (name: string) => (name === '' || keep.has(name) ? name : BODY + name);
  const info = (name: string) => {
    const v = [...step.inputs, ...step.outputs].find((x) => x.name === name);
    if (!v) throw new Error(`loopedStepGraph: the step graph has no input or output ${name}`);
    return { ...v, name: local(name) };
  };
  const node = (opType: string, inputs: string[], outputs: string[], attributes: NodeProto['attributes'] = {}): NodeProto =>
    ({ opType, name: local(outputs[0]), inputs: inputs.map(local), outputs: outputs.map(local), attributes });
  const reads = names.perUpdate.map(([stack, name]) => node('Gather', [stack.name, 'iteration'], [name], { axis: { kind: 'int', value: 0 } }));
  return {
    name: 'update',
    nodes: [
      ...reads,
      ...step.nodes.map((n) => ({ ...n, name: local(n.name), inputs: n.inputs.map(local), outputs: n.outputs.map(local) })),
      node('Identity', ['cond'], ['condOut']),
    ],
    initializers: step.initializers.filter((t) => !keep.has(t.name)).map((t) => ({ ...t, name: local(t.name) })),
    inputs: [
      { name: local('iteration'), dtype: 'int64', dims: [] },
      { name: local('cond'), dtype: 'bool', dims: [] },
      ...names.carried.map(info),
    ],
    outputs: [
      { name: local('condOut'), dtype: 'bool', dims: [] },
      ...names.carried.map((n) => info(`new.${n}`)),
      ...names.metrics.map(info),
    ],
    valueInfo: [
      ...step.valueInfo.map((v) => ({ ...v, name: local(v.name) })),
      ...names.perUpdate.map(([, name]) => info(name)),
    ],
  };
}

/**
 * The looped graph's feeds (it takes `inputNames`) from each update's own: those it takes per
 * update as `stack.<name>` [N, ...], every entry zero-padded to the largest dims among the
 * updates; the others, the same for every update, from the first. Zero padding is padding in
 * every batch input: rows and positions outside the attention and loss masks, which no loss or
 * metric counts (losses.ts counts sequences by their attention).
 */
export function loopFeeds(inputNames: readonly string[], updates: readonly Record<string, OrtTensor>[]): Record<string, OrtTensor> {
  const out: Record<string, OrtTensor> = {};
  for (const name of Object.keys(updates[0])) {
    if (!inputNames.includes(STACK + name)) {
      out[name] = updates[0][name];
      continue;
    }
    const parts = updates.map((u, i) => {
      const t = u[name];
      if (!t || t.dims.length !== updates[0][name].dims.length || t.type !== updates[0][name].type) {
        throw new Error(`loopFeeds: update ${i}'s ${name} does not match update 0's`);
      }
      return t;
    });
    const dims = parts[0].dims.map((_, a) => Math.max(...parts.map((t) => t.dims[a])));
    const size = dims.reduce((a, b) => a * b, 1);
    const data = new (parts[0].data.constructor as new (n: number) => Float32Array | Int32Array)(size * parts.length);
    parts.forEach((t, i) => padInto(t.data as Float32Array | Int32Array, t.dims, data, i * size, dims));
    out[STACK + name] = new Tensor(parts[0].type as 'float32' | 'int32', data, [parts.length, ...dims]);
  }
  return out;
}

/** Copies row-major `src` [srcDims] into `dst` at `offset` as the corner of a zero [dstDims] block. */
function padInto(src: Float32Array | Int32Array, srcDims: readonly number[], dst: Float32Array | Int32Array, offset: number, dstDims: readonly number[]): void {
  if (srcDims.length === 0) {
    dst[offset] = src[0];
    return;
  }
  const row = srcDims[srcDims.length - 1];
  const rows = src.length / Math.max(row, 1);
  for (let r = 0; r < rows; r++) {
    // The row's index along each leading axis, then its start in the padded block.
    let rest = r, at = 0, stride = dstDims[dstDims.length - 1];
    for (let a = srcDims.length - 2; a >= 0; a--) {
      at += (rest % srcDims[a]) * stride;
      rest = Math.floor(rest / srcDims[a]);
      stride *= dstDims[a];
    }
    dst.set(src.subarray(r * row, (r + 1) * row), offset + at);
  }
}
