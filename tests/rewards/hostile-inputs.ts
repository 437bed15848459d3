import type { ScoreSample } from '../../schemas/rewards';

/**
 * One-megabyte responses built to trip each reward into slow paths: unclosed delimiters, long
 * runs after an opening token, thousands of near-miss commands. Used by hostile-inputs.test.ts
 * (every one must be scored or refused within its deadline) and bench/rewards.ts (time per input).
 */
const MB = 1 << 20;
const fill = (unit: string, prefix = '', suffix = '') => prefix + unit.repeat(Math.ceil((MB - prefix.length - suffix.length) / unit.length)) + suffix;

const texts: Record<string, string> = {
  'whitespace after <': fill(' ', '<'),
  'whitespace after </': fill('\t', '</'),
  'many <think': fill('<think '),
  'many </think>': fill('</think>'),
  'fence then one long line': fill('a', '```'),
  'many fences': fill('```python\n'),
  'many unclosed boxes': fill('\\boxed{'),
  'many boxes': fill('\\boxed{1} '),
  'many dollars': fill('$'),
  'many \\(': fill('\\( a '),
  'many \\[': fill('\\[ '),
  'nested braces': fill('{', '\\boxed{'),
  'digits': fill('9'),
  'digit groups': fill('1,000 '),
  'answer markers': fill('the final answer is '),
  'letters, no spaces': fill('abc'),
  'scripts alternating': fill('a\u0430\u4e00'),
  'unclosed answer tags': fill('<answer>'),
  'backslashes': fill('\\\\'),
  'equals signs': fill('x='),
  'long words in thoughts': fill('word ', '<think>', '</think>'),
};

/** Each text as the whole response, as the chain of thought, and as the answer. */
const PLACES: Record<string, (text: string) => string> = {
  response: (text) => text,
  thoughts: (text) => `<think>${text}</think><answer>5</answer>`,
  answer: (text) => `<think>ok</think><answer>${text}</answer>`,
};

export function hostileSamples(): Array<[label: string, sample: ScoreSample]> {
  return Object.entries(texts).flatMap(([label, text]) =>
    Object.entries(PLACES).map(([place, wrap]): [string, ScoreSample] => {
      const response = wrap(text);
      return [`${label} (${place})`, { response, gold: '5', tests: [{ input: '', output: '' }], completionTokens: response.length, truncated: false }];
    }),
  );
}
