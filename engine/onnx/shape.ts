/**
 * Static shapes with symbolic dims. A dim is a number or a product of named symbols with an
 * optional integer coefficient, written canonically ("B", "B*T", "4*B"), so equal strings mean
 * equal sizes and a reshape can be checked without knowing the batch or sequence length.
 */
export type Dim = number | string;

export function formatDims(dims: readonly Dim[]): string {
  return `[${dims.join(',')}]`;
}

function factors(d: Dim): { coef: number; syms: string[] } {
  if (typeof d === 'number') return { coef: d, syms: [] };
  let coef = 1;
  const syms: string[] = [];
  for (const f of d.split('*')) {
    if (/^\d+$/.test(f)) coef *= Number(f);
    else syms.push(f);
  }
  return { coef, syms };
}

/** The product of dims in canonical form: a number when every dim is a number. */
export function dimProduct(dims: readonly Dim[]): Dim {
  let coef = 1;
  const syms: string[] = [];
  for (const d of dims) {
    const f = factors(d);
    coef *= f.coef;
    syms.push(...f.syms);
  }
  if (syms.length === 0 || coef === 0) return coef;
  syms.sort();
  return (coef === 1 ? [] : [String(coef)]).concat(syms).join('*');
}

export function sameDims(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Numpy broadcasting; undefined when the shapes are not provably compatible. */
export function broadcastDims(a: readonly Dim[], b: readonly Dim[]): Dim[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else return undefined;
  }
  return out;
}

/** Resolves a negative axis against a rank and checks it is in range. */
export function normAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`${what}: axis ${axis} out of range for rank ${rank}`);
  return a;
}
