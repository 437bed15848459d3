/**
 * Reverse-mode autodiff over a Graph's recorded nodes: walk the tape backwards from a scalar
 * loss, apply each op's gradient rule, and add up gradients that reach a value along several
 * paths. The backward pass is appended to the same graph, so one session runs both.
 */
import { gradientRules } from './grad-rules';
import { Graph, Node, Value } from './onnx/builder';
import { formatDims, sameDims } from './onnx/shape';

const isFloat = (v: Value) => v.dtype === 'float32' || v.dtype === 'float64';

/**
 * d loss / d w for each w in `wrt` (zeros where the loss does not depend on w). With `dLoss`, the
 * gradient of some scalar with respect to `loss`, `loss` may be any tensor and the result is
 * that scalar's gradient (a vector-Jacobian product).
 */
export function gradients(g: Graph, loss: Value, wrt: readonly Value[], dLoss?: Value): Value[] {
  if (!dLoss && loss.dims.length !== 0) throw new Error(`gradients: loss ${loss.name} must be a scalar, is ${formatDims(loss.dims)}`);
  if (dLoss && !sameDims(dLoss.dims, loss.dims)) throw new Error(`gradients: dLoss ${formatDims(dLoss.dims)} does not fit ${loss.name} ${formatDims(loss.dims)}`);
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
  for (const { node: n, hidden } of tape) {
    if (hidden && n.outputs.some(onPath)) throw new Error(`${n.op} node ${n.name} uses ${hidden.name}, made inside a composite op`);
  }

  const grads = new Map<string, Value>([[loss.name, dLoss ?? g.scalar(1, loss.dtype)]]);
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

/**
 * f(x, params) as one op for autodiff whose backward pass runs f again (gradient checkpointing):
 * of everything f computes, only x stays alive until the backward pass reaches it. `params`
 * are the values f reads that need gradients, by the names f looks them up under; f may read
 * others (positions, masks) that need none.
 *
 * The copy reads x plus 0 * (an element of the incoming gradient), a data dependency that has
 * two jobs: onnxruntime cannot run the copy before that gradient exists (it orders nodes only
 * by their inputs, and would otherwise be free to run the copy beside the original, which saves
 * nothing), and its common-subexpression elimination cannot merge the copy back into the
 * original. The copy also reads aliases of the parameters, so that, for autodiff, it depends
 * on nothing else that does: the incoming gradient itself depends on the parameters through
 * the layers above.
 */
export function recomputed(
  g: Graph, op: string, x: Value, params: Record<string, Value>, f: (x: Value, params: Record<string, Value>) => Value,
): Value {
  const names = Object.keys(params);
  return g.composite(op, [x, ...names.map((n) => params[n])], () => f(x, params), (dy) => {
    const xAgain = after(g, x, [dy]);
    const aliases = Object.fromEntries(names.map((n) => [n, g.emit('Identity', [params[n]], {}, params[n].dtype, params[n].dims)]));
    const [dx, ...dParams] = gradients(g, f(xAgain, aliases), [xAgain, ...names.map((n) => aliases[n])], dy);
    // The layer below starts once this one's parameter gradients are done too: onnxruntime's
    // default order (a depth-first walk back from the outputs) otherwise defers them until the
    // optimizer asks, and every layer's recomputed activations they read stay alive till then.
    return [after(g, dx, dParams), ...dParams];
  });
}

/**
 * x, as a value that onnxruntime can compute only after each of `deps`: x + 0 * (one element of
 * each). What is computed from it again is then neither run early nor merged with the first
 * computation by common-subexpression elimination (see recomputed).
 */
export function after(g: Graph, x: Value, deps: Value[]): Value {
  const elements = deps.map((d) => g.emit('Slice', [d, g.ints(d.dims.map(() => 0)), g.ints(d.dims.map(() => 1))], {}, d.dtype, d.dims.map(() => 1)));
  return g.add(x, g.mul(elements.reduce((a, b) => g.add(a, b)), g.scalar(0, x.dtype)));
}

interface Unit {
  node: Node;
  rule?: (dy: Value) => (Value | undefined)[];
  /** A value made inside a composite that this node, outside it, uses: a path autodiff cannot see. */
  hidden?: Value;
}

/**
 * The tape in order, each composite's nodes replaced by the composite as one op: paths to the
 * loss run through its declared inputs, even where its body reads a value they were made from.
 * Gradient rules use a composite's inner values, so only a node on a path to the loss must not
 * (a recomputed layer differentiates a graph that already holds backward nodes).
 */
function units(g: Graph): Unit[] {
  const byFirst = new Map(g.composites.map((c) => [c.first, c]));
  const out: Unit[] = [];
  // Float values made inside a composite, other than its output. Integer ones (shapes, which the
  // graph caches and shares) carry no gradient, so using them elsewhere loses none.
  const inside = new Set<string>();
  for (let i = 0; i < g.nodes.length; i++) {
    const c = byFirst.get(i);
    if (c) {
      for (let j = c.first; j < c.last; j++) for (const o of g.nodes[j].outputs) if (isFloat(o)) inside.add(o.name);
      out.push({ node: c.node, rule: c.rule });
      i = c.last;
      continue;
    }
    const n = g.nodes[i];
    const rule = gradientRules[n.op];
    out.push({ node: n, rule: rule && ((dy) => rule(g, n, dy)), hidden: n.inputs.find((x) => inside.has(x.name)) });
  }
  return out;
}
