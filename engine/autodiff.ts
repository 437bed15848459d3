/**
 * Reverse-mode autodiff over a Graph's recorded nodes: walk the tape backwards from a scalar
 * loss, apply each op's gradient rule, and add up gradients that reach a value along several
 * paths. The backward pass is appended to the same graph, so one session runs both.
 */
import { gradientRules } from './grad-rules';
import { Graph, Node, Value } from './onnx/builder';
import { formatDims, sameDims } from './onnx/shape';

const isFloat = (v: Value) => v.dtype === 'float32' || v.dtype === 'float64';

/** d loss / d w for each w in `wrt` (zeros where the loss does not depend on w). */
export function gradients(g: Graph, loss: Value, wrt: readonly Value[]): Value[] {
  if (loss.dims.length !== 0) throw new Error(`gradients: loss ${loss.name} must be a scalar, is ${formatDims(loss.dims)}`);
  for (const w of wrt) if (!isFloat(w)) throw new Error(`gradients: cannot differentiate with respect to ${w.name} (${w.dtype})`);

  const tape = units(g);
  // Only nodes on a path from some w to the loss need a gradient.
  const fromWrt = new Set(wrt.map((w) => w.name));
  for (const { node: n } of tape) {
    if (n.inputs.some((i) => fromWrt.has(i.name))) for (const o of n.outputs) if (isFloat(o)) fromWrt.add(o.name);
  }
  tape.reverse();
  const toLoss = new Set([loss.name]);
  for (const { node: n } of tape) if (n.outputs.some((o) => toLoss.has(o.name))) for (const i of n.inputs) toLoss.add(i.name);
  const onPath = (v: Value) => fromWrt.has(v.name) && toLoss.has(v.name);

  const grads = new Map<string, Value>([[loss.name, g.scalar(1, loss.dtype)]]);
  for (const { node: n, rule } of tape) {
    const dy = grads.get(n.outputs[0].name);
    if (!dy || !n.inputs.some(onPath)) continue;
    if (!rule) throw new Error(`no gradient rule for ${n.op} (node ${n.name})`);
    const dxs = rule(dy);
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

interface Unit {
  node: Node;
  rule?: (dy: Value) => (Value | undefined)[];
}

/**
 * The tape in order, each composite's nodes replaced by the composite as one op: paths to the
 * loss run through its declared inputs, even where its body reads a value they were made from.
 */
function units(g: Graph): Unit[] {
  const byFirst = new Map(g.composites.map((c) => [c.first, c]));
  const out: Unit[] = [];
  const inside = new Set<string>(); // values made inside a composite, other than its output
  for (let i = 0; i < g.nodes.length; i++) {
    const c = byFirst.get(i);
    if (c) {
      for (let j = c.first; j < c.last; j++) for (const o of g.nodes[j].outputs) inside.add(o.name);
      out.push({ node: c.node, rule: c.rule });
      i = c.last;
      continue;
    }
    const n = g.nodes[i];
    const hidden = n.inputs.find((x) => inside.has(x.name));
    if (hidden) throw new Error(`${n.op} node ${n.name} uses ${hidden.name}, made inside a composite op`);
    const rule = gradientRules[n.op];
    out.push({ node: n, rule: rule && ((dy) => rule(g, n, dy)) });
  }
  return out;
}
