/**
 * Reverse-mode autodiff over a Graph's recorded nodes: walk the tape backwards from a scalar
 * loss, apply each op's gradient rule, and add up gradients that reach a value along several
 * paths. The backward pass is appended to the same graph, so one session runs both.
 */
import { gradientRules } from './grad-rules';
import { Graph, Value } from './onnx/builder';
import { formatDims, sameDims } from './onnx/shape';

const isFloat = (v: Value) => v.dtype === 'float32' || v.dtype === 'float64';

/** d loss / d w for each w in `wrt` (zeros where the loss does not depend on w). */
export function gradients(g: Graph, loss: Value, wrt: readonly Value[]): Value[] {
  if (loss.dims.length !== 0) throw new Error(`gradients: loss ${loss.name} must be a scalar, is ${formatDims(loss.dims)}`);
  for (const w of wrt) if (!isFloat(w)) throw new Error(`gradients: cannot differentiate with respect to ${w.name} (${w.dtype})`);

  const tape = g.nodes.slice().reverse();
  // Only nodes on a path from some w to the loss need a gradient.
  const fromWrt = new Set(wrt.map((w) => w.name));
  for (const n of g.nodes.slice()) {
    if (n.inputs.some((i) => fromWrt.has(i.name))) for (const o of n.outputs) if (isFloat(o)) fromWrt.add(o.name);
  }
  const toLoss = new Set([loss.name]);
  for (const n of tape) if (n.outputs.some((o) => toLoss.has(o.name))) for (const i of n.inputs) toLoss.add(i.name);
  const onPath = (v: Value) => fromWrt.has(v.name) && toLoss.has(v.name);

  const grads = new Map<string, Value>([[loss.name, g.scalar(1, loss.dtype)]]);
  for (const n of tape) {
    const dy = grads.get(n.outputs[0].name);
    if (!dy || !n.inputs.some(onPath)) continue;
    const rule = gradientRules[n.op];
    if (!rule) throw new Error(`no gradient rule for ${n.op} (node ${n.name})`);
    const dxs = rule(g, n, dy);
    n.inputs.forEach((x, i) => {
      if (!onPath(x)) return;
      const dx = dxs[i];
      if (!dx) throw new Error(`gradient rule for ${n.op} gave no gradient for input ${i} (${x.name})`);
      if (!sameDims(dx.dims, x.dims)) {
        throw new Error(`gradient rule for ${n.op}: gradient of ${x.name} is ${formatDims(dx.dims)}, expected ${formatDims(x.dims)}`);
      }
      const prev = grads.get(x.name);
      grads.set(x.name, prev ? g.add(prev, dx) : dx);
    });
  }
  return wrt.map((w) => grads.get(w.name) ?? g.zerosLike(w));
}
