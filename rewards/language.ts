/**
 * Language-consistency reward (R1 stage 2): the share of the chain of thought (inside <think>)
 * written in the target language's script, in [0, 1].
 *
 * What counts as one unit: a Han, Hiragana or Katakana character (these scripts put no spaces
 * between words), otherwise a run of letters of one script (a word).
 * Neutral, counted for no side: digits, punctuation, symbols, whitespace; inline and display
 * math ($...$, $$...$$, \(...\), \[...\]); LaTeX commands (\frac); single Latin letters (variables
 * such as x or n); Greek letters (pi, theta in formulas).
 * The reward measures the script, not the language: English and French both score as Latin.
 * A chain of thought with no units at all scores 0, so an all-symbol CoT cannot collect this reward.
 */
import type { TargetLanguage } from '../schemas/rewards';

type Script = 'Latin' | 'Cyrillic' | 'Arabic' | 'Hangul' | 'Han' | 'Hiragana' | 'Katakana';

const SCRIPTS_OF: Record<TargetLanguage, Script[]> = {
  en: ['Latin'],
  fr: ['Latin'],
  de: ['Latin'],
  es: ['Latin'],
  ru: ['Cyrillic'],
  ar: ['Arabic'],
  ko: ['Hangul'],
  zh: ['Han'],
  ja: ['Han', 'Hiragana', 'Katakana'],
};

// A math span cannot contain its own delimiters, so an unclosed one costs one scan to the next
// delimiter, not to the end of the text (which would make the reward quadratic).
const MATH = /\$\$[^$]*\$\$|\$[^$]*\$|\\\((?:(?!\\[()])[\s\S])*\\\)|\\\[(?:(?!\\[[\]])[\s\S])*\\\]|\\[a-zA-Z]+/g;
const CHARACTER_UNIT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const SCRIPT_TEST: Array<[Script, RegExp]> = [
  ['Latin', /\p{Script=Latin}/u],
  ['Han', /\p{Script=Han}/u],
  ['Hiragana', /\p{Script=Hiragana}/u],
  ['Katakana', /\p{Script=Katakana}/u],
  ['Hangul', /\p{Script=Hangul}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Arabic', /\p{Script=Arabic}/u],
];
// Letter runs that are not Greek; a run ends where the script changes (checked below).
const LETTERS = /(?:(?!\p{Script=Greek})\p{L}\p{M}*)+/gu;

function scriptOf(char: string): Script | 'Other' {
  for (const [script, test] of SCRIPT_TEST) if (test.test(char)) return script;
  return 'Other';
}

/** Units of the text, each tagged with its script. */
function units(text: string): Array<Script | 'Other'> {
  const out: Array<Script | 'Other'> = [];
  for (const [run] of text.replace(MATH, ' ').matchAll(LETTERS)) {
    let word = '';
    let wordScript: Script | 'Other' | null = null;
    const flush = () => {
      if (wordScript && !(wordScript === 'Latin' && word.length === 1)) out.push(wordScript);
      word = '';
      wordScript = null;
    };
    for (const char of run) {
      if (CHARACTER_UNIT.test(char)) {
        flush();
        out.push(scriptOf(char));
        continue;
      }
      const script: Script | 'Other' | null = /\p{M}/u.test(char) ? wordScript : scriptOf(char);
      if (script !== wordScript) flush();
      word += char;
      wordScript = script;
    }
    flush();
  }
  return out;
}

export function languageReward(response: string, language: TargetLanguage): { value: number; reason: string } {
  const start = response.indexOf('<think>');
  const end = response.indexOf('</think>', start);
  if (start < 0 || end < 0) return { value: 0, reason: 'no <think>...</think> chain of thought' };
  const all = units(response.slice(start + '<think>'.length, end));
  if (all.length === 0) return { value: 0, reason: 'no words in the chain of thought' };
  const wanted = SCRIPTS_OF[language];
  const inTarget = all.filter((s) => (wanted as string[]).includes(s)).length;
  const value = inTarget / all.length;
  return {
    value,
    reason: `${inTarget}/${all.length} units in ${wanted.join('/')} script (${language})`,
  };
}
