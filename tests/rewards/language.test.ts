import assert from 'node:assert/strict';
import { test } from 'node:test';
import { languageReward } from '../../rewards/language';
import { LANGUAGE_SAMPLES } from './language-samples';

const thoughts = (sentences: string[]) => `<think>${sentences.join(' ')}</think><answer>5</answer>`;

test('an English chain of thought scores 1 for en, 0 for zh', () => {
  const r = '<think>First add the two numbers, then divide by two.</think><answer>3</answer>';
  assert.equal(languageReward(r, 'en').value, 1);
  assert.equal(languageReward(r, 'zh').value, 0);
});

test('mixed languages give the share of units in the target script', () => {
  // 4 Han characters + 4 English words.
  const r = '<think>我们计算 the sum is five</think>';
  assert.equal(languageReward(r, 'zh').value, 0.5);
  assert.equal(languageReward(r, 'en').value, 0.5);
  assert.match(languageReward(r, 'zh').reason, /4\/8/);
});

test('math, digits, LaTeX commands, single letters and Greek are neutral', () => {
  const r = '<think>所以 $x^2 + y = \\frac{1}{2}$ 且 x = 3, \\pi ≈ 3.14, θ + 1 = 2 \\( \\sqrt{abc} \\)</think>';
  const zh = languageReward(r, 'zh');
  assert.equal(zh.value, 1, zh.reason);
  assert.match(zh.reason, /3\/3/);
});

test('only the chain of thought counts, not the answer', () => {
  assert.equal(languageReward('<think>Это просто</think><answer>the answer is two</answer>', 'ru').value, 1);
});

test('Japanese counts kana and kanji; Korean counts words', () => {
  assert.equal(languageReward('<think>これは計算です</think>', 'ja').value, 1);
  assert.equal(languageReward('<think>이것은 계산 입니다 ok</think>', 'ko').value, 0.75);
});

test('no chain of thought, or one without words, scores 0', () => {
  assert.equal(languageReward('<answer>4</answer>', 'en').value, 0);
  assert.equal(languageReward('<think>$1+1=2$ 3 + 4 = 7</think>', 'en').value, 0);
});

test('languages that share the Latin script are told apart: en, fr, de, es', () => {
  const targets = ['en', 'fr', 'de', 'es'] as const;
  for (const written of targets) {
    for (const target of targets) {
      const { value, reason } = languageReward(thoughts(LANGUAGE_SAMPLES[written]), target);
      assert.equal(value, written === target ? 1 : 0, `${written} thoughts, target ${target}: ${reason}`);
    }
  }
});

test('each sentence alone is identified: at least 97 of the 100 en/fr/de/es samples', () => {
  let right = 0;
  for (const language of ['en', 'fr', 'de', 'es'] as const) {
    for (const sentence of LANGUAGE_SAMPLES[language]) right += languageReward(thoughts([sentence]), language).value;
  }
  assert.ok(right >= 97, `${right}/100`);
});

test('a chain of thought that switches language scores the share in the target', () => {
  const mixed = thoughts([...LANGUAGE_SAMPLES.en.slice(0, 10), ...LANGUAGE_SAMPLES.fr.slice(0, 10)]);
  const [en, fr] = [languageReward(mixed, 'en').value, languageReward(mixed, 'fr').value];
  assert.ok(en > 0.35 && en < 0.65, `en ${en}`);
  assert.ok(Math.abs(en + fr - 1) < 1e-9, `en ${en} + fr ${fr}`);
});

test('neighbouring languages do not pass for a target: Italian and Portuguese', () => {
  for (const written of ['it', 'pt']) {
    for (const target of ['es', 'fr'] as const) {
      const { value, reason } = languageReward(thoughts(LANGUAGE_SAMPLES[written]), target);
      assert.ok(value < 0.2, `${written} thoughts, target ${target}: ${reason}`);
    }
  }
});

test('short sentences take the language of the chain of thought; too little text falls back to the script', () => {
  const french = thoughts([...LANGUAGE_SAMPLES.fr.slice(0, 5), 'Donc x = 3.', 'Ok.']);
  assert.equal(languageReward(french, 'fr').value, 1);
  assert.equal(languageReward(french, 'en').value, 0);
  assert.equal(languageReward('<think>at once</think>', 'en').value, 1);
  assert.equal(languageReward('<think>at once</think>', 'fr').value, 1);
});

test('unclosed tags and math delimiters are scored in linear time', () => {
  const started = performance.now();
  for (const open of ['\\(', '\\[', '$$']) languageReward(`<think>${`${open}ab `.repeat(50_000)}</think>`, 'en');
  languageReward('<think>'.repeat(50_000), 'en');
  assert.ok(performance.now() - started < 1000, 'quadratic math scan');
});
