/**
 * Answer pairs with the verdict mathEquivalent must give under default options.
 * Each row: [prediction, gold, equal?]. Grouped by what they exercise.
 */
export type Pair = [pred: string, gold: string, equal: boolean];

export const MATH_PAIRS: Record<string, Pair[]> = {
  integers: [
    ['5', '5', true], ['5', '6', false], ['05', '5', true], ['+5', '5', true], ['0', '0', true],
    ['0', '-0', true], ['12', '21', false], ['100', '10', false], ['7', '7.0', true], ['7', '7.000001', false],
    ['123456789012345678901234567890', '123456789012345678901234567890', true],
    ['123456789012345678901234567891', '123456789012345678901234567890', false],
    ['1000000', '1000001', false], ['  42 ', '42', true], ['42.', '42', true],
  ],
  decimals: [
    ['0.5', '.5', true], ['0.5', '0.50', true], ['3.14', '3.14', true], ['3.14', '3.141', false],
    ['0.1', '0.10000000000', true], ['2.5', '5/2', true], ['0.333', '\\frac{1}{3}', false],
    ['0.3333333333333', '\\frac{1}{3}', true], ['1.25', '\\frac{5}{4}', true], ['0.2', '0.02', false],
    ['-0.75', '-\\frac{3}{4}', true], ['0.75', '-\\frac{3}{4}', false],
  ],
  thousands: [
    ['1,000', '1000', true], ['1,000,000', '1000000', true], ['12,345.6', '12345.6', true],
    ['1{,}000', '1000', true], ['1\\,000', '1000', true], ['1,000', '100', false], ['10,000', '1000', false],
    ['-1,234', '-1234', true], ['1,234', '1235', false],
  ],
  negatives: [
    ['-3', '-3', true], ['-3', '3', false], ['\u22123', '-3', true], ['- 3', '-3', true],
    ['-(3)', '-3', true], ['-\\frac{1}{2}', '-0.5', true], ['\\frac{-1}{2}', '-0.5', true],
    ['\\frac{1}{-2}', '-0.5', true], ['-x', 'x', false], ['-(x-1)', '1-x', true],
  ],
  scientific: [
    ['1e5', '100000', true], ['1.5e-3', '0.0015', true], ['1.5E3', '1500', true],
    ['1.5\\times10^{3}', '1500', true], ['1.5 \\times 10^3', '1500', true], ['2.5\\cdot 10^{-2}', '0.025', true],
    ['3\\times10^{8}', '300000000', true], ['3\\times10^{8}', '30000000', false], ['6.02 \\times 10^{23}', '6.02e23', true],
    ['10^{3}', '1000', true], ['10^3', '100', false], ['1e5', '1e6', false], ['1e400', '1e401', false],
    ['2\\times10^{400}', '3\\times10^{400}', false],
  ],
  fractions: [
    ['\\frac{1}{2}', '0.5', true], ['\\frac12', '1/2', true], ['\\dfrac{3}{4}', '0.75', true], ['\\tfrac{3}{4}', '3/4', true],
    ['\\frac{2}{4}', '\\frac{1}{2}', true], ['\\frac{1}{2}', '\\frac{1}{3}', false], ['6/8', '3/4', true],
    ['\\frac{10}{3}', '3\\frac{1}{3}', true], ['\\frac{22}{7}', '\\pi', false], ['\\frac{1}{0}', '1', false],
    ['\\frac{\\sqrt{2}}{2}', '\\frac{1}{\\sqrt{2}}', true], ['\\frac{a}{b}', '\\frac{b}{a}', false],
    ['\\frac{x}{2}', '0.5x', true], ['1/3', '0.3', false], ['\\frac{3}{4}', '\\frac{4}{3}', false],
    ['\\dfrac{\\pi}{4}', '\\frac{\\pi}{4}', true], ['\\left(\\frac{1}{2}\\right)', '0.5', true],
  ],
  'mixed numbers': [
    ['2\\frac{1}{2}', '2.5', true], ['2 1/2', '5/2', true], ['-2\\frac{1}{2}', '-2.5', true], ['2\\frac12', '2.5', true],
    ['3\\frac{1}{4}', '3.25', true], ['3\\frac{1}{4}', '3.75', false], ['1\\frac{2}{3}', '\\frac{5}{3}', true], ['2 1/2', '2', false],
  ],
  percentages: [
    ['50\\%', '0.5', true], ['50%', '50', true], ['50', '50\\%', true], ['0.5', '50\\%', true], ['50\\%', '50\\%', true],
    ['0.5', '50', false], ['50\\%', '5', false], ['25\\%', '\\frac{1}{4}', true], ['12.5\\%', '0.125', true],
    ['50 percent', '0.5', true], ['20\\%', '0.25', false], ['100\\%', '1', true],
  ],
  'units and text': [
    ['5\\text{ cm}', '5', true], ['5 \\text{cm}', '5', true], ['5\\mathrm{cm}', '5', true], ['5 cm', '5', true],
    ['12 inches', '12', true], ['12 inches', '13', false], ['\\$5', '5', true], ['5\\text{ dollars}', '5', true],
    ['\\text{Yes}', 'yes', true], ['\\text{No}', 'yes', false], ['\\textbf{Even}', 'even', true],
    ['3 \\text{ m}^2', '3', false], ['10\\text{ km/h}', '10', true], ['\\$1,000', '1000', true],
    ['\\text{(B)}', 'B', true], ['(B)', 'B', true], ['(C)', 'B', false], ['\\mbox{12 apples}', '12', false],
  ],
  'x = 3': [
    ['x = 3', '3', true], ['x=3', '3', true], ['3', 'x=3', true], ['y = 3', '3', true], ['x = 4', '3', false],
    ['x_1 = 5', '5', true], ['\\theta = 30^\\circ', '30', true], ['f(x) = 2x+1', '2x+1', true],
    ['x = \\frac{6}{2} = 3', '3', true], ['x^2 = 9', '3', false], ['a = 1, b = 2', '1, 2', true],
  ],
  degrees: [
    ['90^\\circ', '90', true], ['90^{\\circ}', '90', true], ['90\u00b0', '90', true], ['45^\\circ', '90', false],
    ['30 degrees', '30', true], ['60\\degree', '60', true], ['180^\\circ', '180^\\circ', true],
  ],
  roots: [
    ['\\sqrt{2}', '\\sqrt{2}', true], ['\\sqrt{8}', '2\\sqrt{2}', true], ['\\sqrt{2}', '1.4142136', false],
    ['\\sqrt{2}', '1.4142135623730951', true], ['\\sqrt{3}', '\\sqrt{2}', false], ['\\sqrt[3]{8}', '2', true],
    ['\\sqrt{12}', '2\\sqrt{3}', true], ['3\\sqrt{2}', '\\sqrt{18}', true], ['\\sqrt{2}/2', '\\frac{\\sqrt2}{2}', true],
    ['\u221a2', '\\sqrt{2}', true], ['\\sqrt{x^2}', 'x', false], ['\\sqrt{4}', '2', true], ['\\sqrt{4}', '-2', false],
    ['2+\\sqrt{3}', '\\sqrt{3}+2', true], ['\\frac{1}{\\sqrt{3}}', '\\frac{\\sqrt{3}}{3}', true],
  ],
  pi: [
    ['\\pi', '\\pi', true], ['2\\pi', '\\pi+\\pi', true], ['\\frac{\\pi}{2}', '\\pi/2', true], ['\\pi', '3.14', false],
    ['\\pi', '3.141592653589793', true], ['\u03c0', '\\pi', true], ['4\\pi', '\\pi', false], ['\\pi r^2', 'r^2\\pi', true],
    ['\\frac{3\\pi}{4}', '0.75\\pi', true], ['2\\pi', '\\tau', false],
  ],
  constants: [
    ['e^{i\\pi}', '-1', true], ['\\sqrt{-4}', '2i', true], ['i^2', '-1', true], ['\\ln e', '1', true],
    ['\\log_2 8', '3', true], ['\\log_{10} 1000', '3', true], ['\\cos(\\pi)', '-1', true], ['\\sin(\\pi/6)', '\\frac12', true],
    ['\\tan(\\pi/4)', '1', true], ['5!', '120', true], ['\\binom{5}{2}', '10', true], ['\\infty', '\\infty', true],
    ['-\\infty', '\\infty', false], ['e', '2.718', false], ['|-3|', '3', true],
  ],
  intervals: [
    ['[1,2)', '[1,2)', true], ['[1,2)', '(1,2)', false], ['[1,2]', '[1,2)', false], ['(1,2]', '(1,2]', true],
    ['(0, \\infty)', '(0,\\infty)', true], ['(-\\infty, 3]', '(-\\infty,3]', true], ['(-\\infty, 3)', '(-\\infty,3]', false],
    ['\\left[1, 2\\right)', '[1,2)', true], ['[\\frac12, 1]', '[0.5, 1]', true], ['[0.5, 1]', '[1, 0.5]', false],
    ['(1,2) \\cup (3,4)', '(3,4) \\cup (1,2)', true], ['(1,2) \\cup (3,4)', '(1,2) \\cup [3,4]', false],
    ['(-\\infty,0)\\cup(0,\\infty)', '(-\\infty, 0) \\cup (0, \\infty)', true], ['[1,2)', '1,2', false],
    ['(\\sqrt{2}, 2]', '(1.4142135623730951, 2]', true], ['[0,100]', '[0, 100]', true], ['[0,100]', '[0,10]', false],
    ['(2, 5)', '(2, 5]', false], ['[-1, 1]', '[-1,1]', true], ['(1, 2)\u222a(3, 4)', '(1,2)\\cup(3,4)', true],
  ],
  tuples: [
    ['(1, 2)', '(1,2)', true], ['(1, 2)', '(2, 1)', false], ['(1,2,3)', '(1,2,3)', true], ['(1,2,3)', '(1,2)', false],
    ['(\\frac12, 3)', '(0.5, 3)', true], ['(0.5, 3)', '(3, 0.5)', false], ['(x, y)', '(x,y)', true],
    ['(1,2)', '[1,2]', false], ['(-1, \\sqrt{2})', '(-1,\\sqrt2)', true], ['(2x, 3)', '(x+x, 3)', true],
    ['\\left( 3, -4 \\right)', '(3,-4)', true], ['(3, -4)', '(3, 4)', false], ['((1,2),(3,4))', '((1,2),(3,4))', true],
    ['((1,2),(3,4))', '((3,4),(1,2))', false], ['(1, 2, 3, 4)', '(1, 2, 3, 5)', false],
  ],
  sets: [
    ['\\{1,2\\}', '\\{2,1\\}', true], ['\\{1,2\\}', '\\{1,2,3\\}', false], ['\\{1,2,2\\}', '\\{1,2\\}', true],
    ['\\{-1, 1\\}', '\\{1, -1\\}', true], ['\\{\\frac12\\}', '\\{0.5\\}', true], ['1, 2', '2, 1', true],
    ['x = 1, x = 2', '1, 2', true], ['x=1 \\text{ or } x=2', '2, 1', true], ['1, 2, 3', '1, 2', false],
    ['\\{3\\}', '3', true], ['3', '\\{3\\}', true], ['\\{a, b\\}', '\\{b, a\\}', true], ['\\{1,2\\}', '(1,2)', false],
    ['\\{\\sqrt2, -\\sqrt2\\}', '\\{-\\sqrt{2}, \\sqrt{2}\\}', true], ['-2, 3', '3, -2', true], ['-2, 3', '2, -3', false],
    ['\\{\\}', '\\{1\\}', false], ['1 \\text{ and } 2', '1, 2', true],
  ],
  algebra: [
    ['x^2+2x+1', '(x+1)^2', true], ['x^2+2x+1', '(x-1)^2', false], ['2x', 'x+x', true], ['2x', 'x^2', false],
    ['\\frac{x^2-1}{x-1}', 'x+1', true], ['(a+b)^2', 'a^2+2ab+b^2', true], ['(a+b)^2', 'a^2+b^2', false],
    ['\\sin^2 x + \\cos^2 x', '1', true], ['2\\sin x\\cos x', '\\sin(2x)', true], ['\\sin x', '\\cos x', false],
    ['e^{x}e^{y}', 'e^{x+y}', true], ['\\ln(xy)', '\\ln x + \\ln y', false], ['\\ln(x^2)', '2\\ln x', false],
    ['x^{1/2}', '\\sqrt{x}', true], ['\\frac{1}{x}', 'x^{-1}', true], ['3x+2', '2+3x', true], ['3x+2', '3x-2', false],
    ['x y', 'yx', true], ['\\frac{x}{y}', '\\frac{y}{x}', false], ['(x+1)(x-1)', 'x^2-1', true],
    ['|x|', '\\sqrt{x^2}', true], ['|x|', 'x', false], ['x^3-1', '(x-1)(x^2+x+1)', true], ['2^{x+1}', '2\\cdot 2^x', true],
    ['\\frac{n(n+1)}{2}', '\\frac{n^2+n}{2}', true], ['n!', 'n', false], ['\\cos(2x)', '1-2\\sin^2 x', true],
    ['\\frac{1}{x+1}', '\\frac{1}{x}+1', false], ['a\\cdot b', 'ab', true], ['a \\times b', 'ba', true],
    ['x^2', 'x\u00b2', false], ['\\exp(x)', 'e^x', true], ['4x^2-9', '(2x-3)(2x+3)', true], ['x+1', 'x+1.0000001', false],
    ['\\frac{1}{\\sec x}', '\\cos x', true], ['\\frac{2}{\\csc x}', '2\\sin x', true], ['\\frac{1}{\\sec x}', '\\sec x', false],
    ['-2x+1', '1-2x', true], ['x-y-z', 'x-(y+z)', true], ['x-y-z', 'x-(y-z)', false], ['\\sin x\\cos x', '\\frac{\\sin(2x)}{2}', true],
  ],
  equations: [
    ['y = 2x+1', 'y = 1+2x', true], ['x^2+y^2=1', 'y^2+x^2=1', true], ['x^2+y^2=1', '2x^2+2y^2=2', true],
    ['x^2+y^2=1', 'x^2+y^2=2', false], ['y=2x+1', 'y=2x-1', false], ['2x - y = 3', 'y = 2x - 3', true],
    ['x + y = 1', 'x - y = 1', false], ['x^2 = 4', 'x^2 - 4 = 0', true],
  ],
  relations: [
    ['x \\le 3', 'x \\le 3', true], ['x \\leq 3', 'x \\le 3', true], ['x < 3', 'x \\le 3', false], ['x > 2', 'x < 2', false],
    ['x > 3', '3 < x', true], ['x > 3', 'y > 3', false], ['x \\ge 3', '3 \\le x', true],
  ],
  // A gold inequality accepts the interval it describes; a gold interval asks for an interval.
  'inequalities as intervals': [
    ['(3, \\infty)', 'x > 3', true], ['[3, \\infty)', 'x > 3', false], ['[3,\\infty)', 'x \\ge 3', true], ['(3,\\infty)', 'x \\ge 3', false],
    ['(-\\infty, 3)', 'x < 3', true], ['(-\\infty, 3]', 'x < 3', false], ['(-\\infty,-1]', 'x \\leq -1', true], ['(-\\infty, 1]', 'x \\le -1', false],
    ['(3,5)', '3 < x < 5', true], ['[3,5)', '3 < x < 5', false], ['[3, 5)', '3 \\le x < 5', true], ['[3,5)', '5 > x \\ge 3', true],
    ['(0.5, \\infty)', 'x > \\frac12', true], ['(3, \\infty)', 'x>3', true], ['[2, \\infty)', 'x \\geq 2', true], ['(-\\infty, 2)', 'x > 2', false],
    ['[0, \\infty)', 'x \u2265 0', true], ['(1, 3)', '1 < x > 3', false], ['(-\\infty, y)', 'x < y', false], ['(3, 4)', 'x > 3', false],
    ['x > 3', '(3, \\infty)', false], ['3 < x < 5', '(3,5)', false], ['x \\in (3, \\infty)', '(3, \\infty)', true],
    ['x \\in [-2, 7]', '-2 \\le x \\le 7', true], ['-2 \\le x \\le 7', 'x \\in [-2, 7]', false],
  ],
  binomials: [
    ['\\binom{5}{2}', '20', false], ['\\dbinom{6}{3}', '20', true], ['\\tbinom{4}{2}', '6', true], ['\\binom{10}{3}', '\\binom{10}{7}', true],
    ['\\binom{10}{3}', '\\binom{10}{4}', false], ['2\\binom{4}{2}', '12', true], ['\\binom{100}{50}', '100891344545564193334812497256', true],
    ['\\binom{100}{50}', '\\binom{100}{49}', false], ['\\binom{n}{2}', '\\frac{n(n-1)}{2}', true], ['\\binom{n}{2}', '\\frac{n(n+1)}{2}', false],
    ['\\binom{n+1}{2}', '\\frac{n(n+1)}{2}', true], ['\\binom{n}{0}', '1', true], ['\\binom{n}{1}', 'n', true], ['\\binom{n}{3}', 'n^3', false],
  ],
  matrices: [
    ['\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}', '\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}', true],
    ['\\begin{pmatrix}\\frac12&2\\\\3&4\\end{pmatrix}', '\\begin{pmatrix}0.5&2\\\\3&4\\end{pmatrix}', true],
    ['\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}', '\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}', true],
    ['\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}', '\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}', false],
    ['\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}', '\\begin{pmatrix}1&2&3\\\\4&5&6\\end{pmatrix}', false],
    ['\\begin{pmatrix}1&2\\end{pmatrix}', '\\begin{pmatrix}1\\\\2\\end{pmatrix}', false],
    ['\\begin{pmatrix}1\\\\2\\end{pmatrix}', '(1, 2)', false],
    ['\\begin{pmatrix}x+1&0\\\\0&2x\\end{pmatrix}', '\\begin{pmatrix}1+x&0\\\\0&x+x\\end{pmatrix}', true],
    ['\\begin{pmatrix}x+1&0\\\\0&2x\\end{pmatrix}', '\\begin{pmatrix}x+1&0\\\\0&x^2\\end{pmatrix}', false],
    ['\\begin{pmatrix}1&2\\\\3&4\\\\\\end{pmatrix}', '\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}', true],
    ['\\begin{bmatrix}\\sqrt{4}&-1\\end{bmatrix}', '\\begin{bmatrix}2&-1\\end{bmatrix}', true],
    ['\\begin{matrix}1&0\\\\0&1\\end{matrix}', '\\begin{pmatrix}1&0\\\\0&-1\\end{pmatrix}', false],
  ],
  'multiple choice and words': [
    ['A', 'A', true], ['A', 'B', false], ['(A)', '(A)', true], ['\\text{A}', 'A', true], ['yes', 'Yes', true],
    ['Yes', 'No', false], ['\\text{odd}', 'Odd', true], ['X', 'x', false], ['\\text{even}', '\\text{odd}', false],
  ],
  'unicode look-alikes': [
    ['\uff13', '3', false], ['\u0663', '3', false], ['\ud835\udfd1', '3', false], ['\u00b3', '3', false],
    ['\u00bd', '0.5', false], ['1\uff10', '10', false], ['\u06f5', '5', false], ['\u0967', '1', false],
    ['3', '3', true], ['\u2212 5', '-5', true], ['2\u00d73', '6', true], ['6\u00f72', '3', true], ['2\u22c53', '6', true],
    ['x\u00b7y', 'xy', true], ['\u221e', '\\infty', true], ['3', '\uff13', false], ['\u0031\u20e3', '1', false],
  ],
  labels: [
    ['(p,q)=(3,2)', '(3,2)', true], ['(p, q) = (3, 2)', '(2, 3)', false], ['AB=4, CD=5', '4, 5', true], ['AB=4, CD=5', '4, 6', false],
    ['|AB| = 1', '1', true], ['|AB| = 1', '-1', false], ['A:B = 2', '2', true], ['S_{ABC}:S = 7:32', '7:32', true],
    ['S_{ABC}:S = 7:32', '7:33', false], ['\\frac{NO}{BO} = \\frac{1}{\\sqrt{6}}', '\\frac{\\sqrt6}{6}', true], ['f(x) = 1', '1', true],
    ['x_1 = 10, x_2 = 20', '20, 10', true], ['x = 5+5+1 = 11', '11', true], ['x = 5+5+1 = 11', '12', false], ['1 = y = x = 0', '0', true],
    ['7 = 11a+c', '11a+c', false], ['a+3z=0', '0', false], ['2+3 = 5', '5', true], ['2+3 = 6', '5', false], ['n = 1, 2, 3', '1, 2, 3', true],
    ['n = 1, 2, 3', '1, 2, 4', false], ['a=4,\\,-8,\\,-10', '-10, -8, 4', true], ['(x, y) = (5, 8) \\quad \\text{and} \\quad (8, 5)', '(8, 5), (5, 8)', true],
    ['D = (0, 1)', 'D = (0, 1.5)', false], ['x^2 + 1 = 0', '0', false],
  ],
  'lists with words': [
    ['1 and 2', '2, 1', true], ['1 or 2', '1, 2', true], ['(11,7)or(7,11)', '(7,11), (11,7)', true], ['(11,7)or(7,12)', '(7,11), (11,7)', false],
    ['19, 46, and 82', '19, 46, 82', true], ['19, 46, \\text{ and } 82', '19, 46, 83', false], ['W(x)=1orW(x)=-1', '1, -1', true],
    ['W(x)=1orW(x)=-2', '1, -1', false], ['1; 2; 3', '3, 2, 1', true], ['1; 2; 3', '1, 2', false], ['p=5,q=2; p=7,q=2', '(5,2), (7,2)', true],
    ['p=5,q=2; p=7,q=2', '(2,5), (7,2)', false], ['(0;-2;6)', '(0, -2, 6)', true], ['(0;-2;6)', '(0, 2, 6)', false],
    ['\\text{black and white}', 'black and white', true], ['\\text{random}', 'r, a, n, d, o, m', false], ['12:00', '1:00', false],
  ],
  'plus-minus': [
    ['1 \\pm \\sqrt{19}', '1+\\sqrt{19}, 1-\\sqrt{19}', true], ['1 \\pm \\sqrt{19}', '1+\\sqrt{19}', false], ['\\pm 2021', '2021', false],
    ['\\pm 2021', '\\{-2021, 2021\\}', true], ['\\pm 2', '2, -3', false], ['3 \\mp 1', '2, 4', true],
    ['\\{1\\pm\\sqrt5, -2\\}', '\\{-2, 1+\\sqrt5, 1-\\sqrt5\\}', true], ['\\{1\\pm\\sqrt5, -2\\}', '\\{2, 1+\\sqrt5, 1-\\sqrt5\\}', false],
  ],
  'relations and membership': [
    ['x \\neq 3', 'x != 3', true], ['x \\ne 3', 'x \\neq 4', false], ['(-\\infty, 3) \\cup (3, \\infty)', 'x \\neq 3', true],
    ['-x > -1', 'x < 1', true], ['-x > -1', 'x > -1', false], ['-x \\ge 2', 'x \\le -2', true], ['x >= 5', 'x \\geq 5', true],
    ['[-2, -1] \\cup [1, 2]', '1 \\le |z| \\le 2', true], ['[-2, 2]', '1 \\le |z| \\le 2', false], ['(-3, 3)', '|x| < 3', true],
    ['(-3, 3]', '|x| < 3', false], ['(-\\infty, -3) \\cup (3, \\infty)', '|x| > 3', true], ['(0, 1)', '0 < f(x) < 1', true],
    ['[0, 1)', '0 < f(x) < 1', false], ['x \\in [-2, 7]', '[-2, 7]', true], ['x \\in [-2, 7]', '[-2, 7)', false],
  ],
  approximations: [
    ['x \\approx 11', '11', true], ['x \\approx 11', '12', false], ['\\frac{1}{3} \\approx 0.33', '\\frac13', true],
    ['\\frac{1}{3} \\approx 0.33', '0.33', false], ['\\sqrt2 \\approx 1.41', '1.41', false], ['x = 1/3 \\approx 0.333', '1/3', true],
    ['0.33', '\\frac13', false], ['3.14', '\\pi', false], ['1.4142', '\\sqrt{2}', false],
  ],
  'percent words': [
    ['28 pct', '28\\%', true], ['28 percentage', '0.28', true], ['28 pct', '0.29', false], ['28', '28/100', false], ['28/100', '28', false],
  ],
  'decimal comma': [
    ['1,22', '1.22', true], ['1,22', '1.23', false], ['0,111', '0.111', true], ['1000,99', '1000.99', true], ['1,000', '1', false],
    ['1,000', '1.000', false], ['2,5', '2, 5', true], ['2,5', '2.5', true], ['-2,1', '1, -2', true], ['1, 22', '1.22', false],
  ],
  'digit groups': [
    ['11,\\! 111,\\! 100', '11111100', true], ['32,\\! 349', '32349', true], ['32, 349', '32349', false], ['14 {, }916', '14916', true],
    ['1 000', '1000', true], ['1 000', '100', false],
  ],
  'escapes and spacing': [
    ['\\\\frac{1}{2}', '0.5', true], ['\\\\frac{1}{3}', '0.5', false], ['\\\\left(\\\\frac{1}{5},\\\\frac{1}{6}\\\\right)', '(0.2, \\frac16)', true],
    ['\\cfrac{1}{3}', '1/3', true], ['\\cfrac{1}{3}', '1/4', false], ['125\\textnormal{ miles}', '125', true], ['x_{1}=2,\\quadx_{2}=3', '3, 2', true],
  ],
  'bare-brace sets': [
    ['{1,3}', '\\{3,1\\}', true], ['{1,3}', '(3,1)', false], ['{1,3}', '\\{1, 4\\}', false], ['{5}', '5', true], ['{35 cm,4}', '35, 4', true],
  ],
  'matrix forms': [
    ['\\left[\\begin{array}{cc}1 & 2 \\\\ 3 & 4\\end{array}\\right]', '\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}', true],
    ['\\left[\\begin{array}{cc}1 & 2 \\\\ 3 & 5\\end{array}\\right]', '\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}', false],
    ['\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix} + \\begin{pmatrix}5&6\\\\7&8\\end{pmatrix}', '\\begin{pmatrix}6&8\\\\10&12\\end{pmatrix}', true],
    ['\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix} + \\begin{pmatrix}5&6\\\\7&8\\end{pmatrix}', '\\begin{pmatrix}6&8\\\\10&13\\end{pmatrix}', false],
    ['\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}\\begin{pmatrix}0&1\\\\1&0\\end{pmatrix}', '\\begin{pmatrix}2&1\\\\4&3\\end{pmatrix}', true],
    ['\\begin{pmatrix}0&1\\\\1&0\\end{pmatrix}\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}', '\\begin{pmatrix}2&1\\\\4&3\\end{pmatrix}', false],
    ['\\begin{pmatrix}1&2\\end{pmatrix} + \\begin{pmatrix}1\\\\2\\end{pmatrix}', '\\begin{pmatrix}2&4\\end{pmatrix}', false],
  ],
  'odd roots of negatives': [
    ['x^{2/3}', '\\sqrt[3]{x}^2', true], ['x^{1/3}', '\\sqrt[3]{x}', true], ['x^{2/3}', '\\sqrt[3]{x}', false],
    ['\\frac{1}{3x^{2/3}}', '\\frac{1}{3\\sqrt[3]{x}^2}', true], ['x^{2/3}', '-\\sqrt[3]{x}^2', false],
  ],
  'sums and products': [
    ['\\sum_{k=1}^{10} k', '55', true], ['\\sum_{k=1}^{10} k', '56', false], ['\\prod_{i=1}^{4} i', '24', true],
    ['\\sum_{k=0}^{n-1} F_k', '\\sum_{k=0}^{n-1}F_k', true], ['\\sum_{k=0}^{n-1} F_k', '\\sum_{k=0}^{n-2} F_k', false],
  ],
  'malformed and empty': [
    ['', '5', false], ['   ', '5', false], ['\\frac{1}{', '0.5', false], ['((((', '1', false], ['}', '1', false],
    ['5)', '5', false], ['\\boxed{5}', '5', true], ['$5$', '5', true], ['\\(5\\)', '5', true], ['\\[5\\]', '5', true],
    ['5.', '5', true], ['The answer is 5', '5', false], ['5, ', '5', false], ['\\frac{}{}', '1', false],
    ['NaN', 'NaN', true], ['NaN', '5', false], ['Infinity', '5', false], ['0x10', '16', false],
  ],
};

/**
 * Whole responses against golds, with the verdict accuracyReward must give: answers in prose,
 * several boxes, golds that are worked solutions. Each row: [response, gold, equal?].
 */
export const RESPONSE_PAIRS: Record<string, Pair[]> = {
  prose: [
    ['The final answer is $10,455$. I hope it is correct.', '10455', true], ['The final answer is $10,456$. I hope it is correct.', '10455', false],
    ['Answer $ 9 $', '9', true], ['Answer $ \n 9 \n $', '9', false], ['Answer \\[ \n 9 \n \\]', '9', true], ['So the probability is 2/3.', '\\frac23', true],
    ['So the probability is 2/3.', '\\frac34', false], ['Final Answer: The largest $n$ is 34.', '34', true], ['Final Answer: The largest $n$ is 35.', '34', false],
    ['the number is not 10 which is 1,000.99\u20ac', '1000.99', true], ['the number is 10 which is not 1,000.99', '10', false], ['AZYUK2A', '2', false],
    ['Soucis : 2,74 $ a..', '2.74', true], ['Therefore $x \\geq 5$ is the solution.', 'x \\ge 5', true], ['Therefore $x \\geq 5$ is the solution.', 'x > 5', false],
    ['It increases by 100%.', '100\\%', true], ['$28$ %', '28\\%', true], ['$\\boxed{28}$ pct', '0.28', true], ['$\\boxed{28}$ pct', '0.29', false],
    ['It costs $5 and then $10, so the final answer is $15$.', '15', true], ['It costs $5 and then $10, so the final answer is $15$.', '10', false],
    ['We get $1$ and $2$ and $3$.', '3, 2, 1', true], ['We get $1$ and $2$ and $3$.', '3', false], ['There are 12 ways. I hope it is correct.', '12', true],
    ['I do not know.', '0', false], ['lorem ipsum dolor', 'lorem', false], ['The answer is 5 or 6.', '5', false],
    ['The answer is 5 or 6.', '6, 5', true], ['The roots are 2 and 3.', '3, 2', true], ['The roots are 2 and 3.', '3', false],
    ['So 2 + 3 = 5.', '5', true], ['So 2 + 3 = 5.', '2, 3, 5', false],
  ],
  'several boxes': [
    ['\\boxed{1} and \\boxed{2}', '1, 2', true], ['\\boxed{1} and \\boxed{2}', '2', false], ['\\boxed{1} no no no no no \\boxed{2}', '1, 2', false],
    ['\\boxed{1} no no no no no \\boxed{2}', '2', true], ['\\boxed{(1, 2)}, \\boxed{(2, 1)}', '(2,1), (1,2)', true],
    ['\\(y_1 = \\boxed{x+1}\\) and \\(y_2 = \\boxed{x-1}\\)', 'x-1, x+1', true], ['\\(y_1 = \\boxed{x+1}\\) and \\(y_2 = \\boxed{x-1}\\)', 'x-1', false],
    ['\\boxed{3}. Wait, that is wrong. The answer is \\boxed{5}', '5', true], ['\\boxed{3}. Wait, that is wrong. The answer is \\boxed{5}', '3', false],
    ['So \\boxed{255}, and the total is $10,455. The final answer is $10,455$.', '10455', true], ['\\boxed{1} papers and \\boxed{2} bins', '1, 2', true],
    ['\\boxed{5} and finally \\boxed{6', '5', false], ['\\boxed{5}. I checked the answer using 3 methods.', '5', true],
    ['\\boxed{5}. I checked the answer using 3 methods.', '3', false], ['\\boxed{\\boxed{7}}', '7', true], ['\\boxed{2}\\boxed{3}', '\\{2, 3\\}', true],
  ],
  'gold is a solution': [
    ['\\boxed{20\\%}', 'Solving for $x$ yields $x=1/5$, or $\\boxed{20}$ percent.', true],
    ['\\boxed{21\\%}', 'Solving for $x$ yields $x=1/5$, or $\\boxed{20}$ percent.', false],
    ['\\boxed{1,-2}', 'so the solutions are $n = \\boxed{1,-2}.$', true], ['\\boxed{1}', 'so the solutions are $n = \\boxed{1,-2}.$', false],
    ['$004$', ' the answer should be \\\\boxed{004}.\\n\\n**Final Answer**\\n\\\\boxed{004}', true],
    ['$005$', ' the answer should be \\\\boxed{004}.\\n\\n**Final Answer**\\n\\\\boxed{004}', false],
    ['\\boxed{28\\%}', 'The final answer is $28 \\%$. I hope it is correct. Note: the approach is as follows.', true],
  ],
  'thoughts and tags': [
    ['<think>the answer is 5</think>The answer is 6.', '5', false], ['<think>the answer is 5</think>The answer is 6.', '6', true],
    ['<think>x</think><answer>The answer is $\\frac{1}{2}$.</answer>', '0.5', true], ['<think>x</think><answer>Even</answer>', 'even', true],
    ['<think>so \\boxed{7}', '7', false], ['</think>7<think>', '7', false],
  ],
};
