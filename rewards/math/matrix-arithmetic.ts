import { plainNumber } from './number';

/**
 * Works out sums and products of matrices with plain-number cells, so that an answer written
 * `\begin{pmatrix}1&2\\3&4\end{pmatrix} + \begin{pmatrix}5&6\\7&8\end{pmatrix}` equals the
 * matrix it adds up to. Terms are joined by `+`; the matrices of a term by `\cdot`, `\times` or
 * nothing. Returns the resulting cells, or null for anything else (a single matrix, a symbolic
 * cell, shapes that do not fit, other operators).
 */
type Matrix = number[][];

const ENVIRONMENT = /\\begin\{([pbB]?matrix)\}([^]*?)\\end\{\1\}/y;
const TIMES = /\\cdot|\\times/y;

export function matrixArithmetic(s: string): string[][] | null {
  if (s.indexOf('\\begin') === s.lastIndexOf('\\begin')) return null; // fewer than two matrices
  const terms: Matrix[][] = [[]];
  let i = 0;
  const skipSpaces = () => {
    while (s[i] === ' ') i++;
  };
  while (i < s.length) {
    skipSpaces();
    ENVIRONMENT.lastIndex = i;
    const env = ENVIRONMENT.exec(s);
    if (env === null) return null;
    const matrix = numericCells(env[2]);
    if (matrix === null) return null;
    terms[terms.length - 1].push(matrix);
    i = ENVIRONMENT.lastIndex;
    skipSpaces();
    if (s[i] === '+') {
      terms.push([]);
      i++;
      continue;
    }
    TIMES.lastIndex = i;
    if (TIMES.test(s)) i = TIMES.lastIndex;
  }
  let sum: Matrix | null = null;
  for (const factors of terms) {
    if (factors.length === 0) return null;
    let product: Matrix | null = factors[0];
    for (const factor of factors.slice(1)) product = product && multiply(product, factor);
    sum = sum === null ? product : product && add(sum, product);
    if (sum === null) return null;
  }
  return sum!.map((row) => row.map(String));
}

function numericCells(body: string): Matrix | null {
  const rows = body.split('\\\\').map((row) => row.trim()).filter((row) => row !== '');
  const matrix = rows.map((row) => row.split('&').map((cell) => plainNumber(cell)?.value ?? NaN));
  const width = matrix[0]?.length;
  if (width === undefined || matrix.some((row) => row.length !== width || row.some(Number.isNaN))) return null;
  return matrix;
}

function add(a: Matrix, b: Matrix): Matrix | null {
  if (a.length !== b.length || a[0].length !== b[0].length) return null;
  return a.map((row, i) => row.map((x, j) => x + b[i][j]));
}

function multiply(a: Matrix, b: Matrix): Matrix | null {
  if (a[0].length !== b.length) return null;
  return a.map((row) => b[0].map((_, j) => row.reduce((sum, x, k) => sum + x * b[k][j], 0)));
}
