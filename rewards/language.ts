/**
 * Language-consistency reward (R1 stage 2): the share of the chain of thought (inside <think>)
 * written in the target language, in [0, 1].
 *
 * What counts as one unit: a Han, Hiragana or Katakana character (these scripts put no spaces
 * between words), otherwise a run of letters of one script (a word).
 * Neutral, counted for no side: digits, punctuation, symbols, whitespace; inline and display
 * math ($...$, $$...$$, \(...\), \[...\]); LaTeX commands (\frac); single Latin letters (variables
 * such as x or n); Greek letters (pi, theta in formulas).
 *
 * Which language a unit is in:
 * - Cyrillic, Arabic, Hangul and CJK units: their script tells (ru, ar, ko, zh; ja is Han + kana).
 * - Latin words: the language of their sentence, identified by tinyld (n-gram language
 *   identification) when the sentence has at least MIN_WORDS Latin words, so that en, fr, de and
 *   es are told apart. A shorter sentence (`So x = 3.`) takes the language most of the identified
 *   sentences are in; when no sentence is long enough to identify, the script decides (any Latin
 *   target counts), as short chains of thought carry too little text to tell.
 * At most MAX_IDENTIFIED sentences are identified, spread evenly over the chain of thought; each
 * other long sentence takes the language of the last identified one before it. This bounds the
 * work on any input (tinyld reads about 2 MB/s).
 * A chain of thought with no units at all scores 0, so an all-symbol CoT cannot collect this reward.
 */
import { detect } from 'tinyld';
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

/**
 * Living languages written in the Latin script: the candidates for a Latin sentence. tinyld also
 * knows Latin, Esperanto, Volapük and Klingon, which no chain of thought is written in, and which
 * it took a short French sentence for.
 */
const LATIN_LANGUAGES = ['en', 'fr', 'de', 'es', 'it', 'pt', 'nl', 'da', 'sv', 'no', 'fi', 'is', 'pl', 'cs', 'sk', 'hu', 'ro', 'tr', 'lt', 'lv', 'et', 'id', 'vi', 'tl', 'af', 'ga', 'sr'];
const MIN_WORDS = 6;
const MAX_IDENTIFIED = 200;
/** A run-on sentence is identified by its beginning: enough for the language, and bounded. */
const MAX_IDENTIFIED_CHARS = 1_000;

// A math span cannot contain its own delimiters, so an unclosed one costs one scan to the next
// delimiter, not to the end of the text (which would make the reward quadratic).
const MATH = /\$\$[^$]*\$\$|\$[^$]*\$|\\\((?:(?!\\[()])[\s\S])*\\\)|\\\[(?:(?!\\[[\]])[\s\S])*\\\]|\\[a-zA-Z]+/g;
const SENTENCE_END = /[.!?;\n\u3002\uff01\uff1f]+/;
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
  if (char < '\u0080') return 'Latin'; // only letters get here: ASCII ones are Latin
  for (const [script, test] of SCRIPT_TEST) if (test.test(char)) return script;
  return 'Other';
}

/** Units of the text, each tagged with its script. */
function units(text: string): Array<Script | 'Other'> {
  const out: Array<Script | 'Other'> = [];
  for (const [run] of text.matchAll(LETTERS)) {
    let word = '';
    let wordScript: Script | 'Other' | null = null;
    const flush = () => {
      if (wordScript && !(wordScript === 'Latin' && word.length === 1)) out.push(wordScript);
      word = '';
      wordScript = null;
    };
    for (const char of run) {
      if (char >= '\u3000' && CHARACTER_UNIT.test(char)) {
        flush();
        out.push(scriptOf(char));
        continue;
      }
      const script: Script | 'Other' | null = char >= '\u0300' && /\p{M}/u.test(char) ? wordScript : scriptOf(char);
      if (script !== wordScript) flush();
      word += char;
      wordScript = script;
    }
    flush();
  }
  return out;
}

interface Sentence {
  text: string;
  units: Array<Script | 'Other'>;
  latin: number;
  /** ISO 639-1 code from tinyld; '' when not identified. */
  language: string;
}

export function languageReward(response: string, language: TargetLanguage): { value: number; reason: string } {
  const start = response.indexOf('<think>');
  const end = response.indexOf('</think>', start);
  if (start < 0 || end < 0) return { value: 0, reason: 'no <think>...</think> chain of thought' };
  const sentences = response
    .slice(start + '<think>'.length, end)
    .replace(MATH, ' ')
    .split(SENTENCE_END)
    .map((text): Sentence => {
      const found = units(text);
      return { text, units: found, latin: found.filter((s) => s === 'Latin').length, language: '' };
    });
  const all = sentences.reduce((n, s) => n + s.units.length, 0);
  if (all === 0) return { value: 0, reason: 'no words in the chain of thought' };
  const wanted = SCRIPTS_OF[language];
  const latinTarget = wanted.includes('Latin');
  const dominant = latinTarget ? identifyLatin(sentences) : null;
  let inTarget = 0;
  for (const sentence of sentences) {
    for (const script of sentence.units) {
      if (!wanted.includes(script as Script)) continue;
      // Latin words count when their sentence, or else the chain of thought, is in the target.
      if (script === 'Latin' && dominant !== null && (sentence.language || dominant) !== language) continue;
      inTarget++;
    }
  }
  const how = dominant === null ? `${wanted.join('/')} script (${language})` : `${language} (sentences mostly in ${dominant})`;
  return { value: inTarget / all, reason: `${inTarget}/${all} units in ${how}` };
}

/**
 * Sets the language of the sentences long enough to identify, at most MAX_IDENTIFIED of them
 * spread evenly (the others take the last identified language before them). Returns the
 * language most Latin words are in, or null when no sentence could be identified.
 */
function identifyLatin(sentences: Sentence[]): string | null {
  const long = sentences.filter((s) => s.latin >= MIN_WORDS);
  const stride = Math.ceil(long.length / MAX_IDENTIFIED);
  const wordsIn = new Map<string, number>();
  let last = '';
  long.forEach((sentence, i) => {
    if (i % stride === 0) last = detect(sentence.text.slice(0, MAX_IDENTIFIED_CHARS), { only: LATIN_LANGUAGES });
    sentence.language = last;
    if (last) wordsIn.set(last, (wordsIn.get(last) ?? 0) + sentence.latin);
  });
  let dominant: string | null = null;
  for (const [code, words] of wordsIn) if (dominant === null || words > wordsIn.get(dominant)!) dominant = code;
  return dominant;
}
