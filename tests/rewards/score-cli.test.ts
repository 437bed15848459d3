import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runScore } from '../../cli/score';

const dir = mkdtempSync(join(tmpdir(), 'r1-score-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function captureIo() {
  const io = { out: '', err: '', stdout: { write: (s: string) => (io.out += s) }, stderr: { write: (s: string) => (io.err += s) } };
  return io;
}

const lines = [
  JSON.stringify({ id: 'a', response: '<think>ok</think><answer>4</answer>', gold: '4' }),
  '{"response": "<think>cut off',
  '',
  JSON.stringify({ id: 'c', response: 'the answer is 5', gold: '4' }),
  JSON.stringify({ id: 'd', gold: '4' }),
];

test('a malformed line is reported by number and skipped; the others are scored; summary on stderr', async () => {
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, lines.join('\n') + '\n');
  const io = captureIo();
  const code = await runScore([input, '--rewards', 'r1-math'], io);
  assert.equal(code, 1);
  assert.match(io.err, /in\.jsonl:2: skipped: invalid JSON/);
  assert.match(io.err, /in\.jsonl:5: skipped: .*response/);
  assert.doesNotMatch(io.err, /:3:/);
  const scored = io.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(scored.map((s) => s.id), ['a', 'c']);
  assert.equal(scored[0].reward, 1.5);
  assert.equal(scored[0].breakdown.format.weight, 0.5);
  assert.equal(scored[1].reward, 0);
  assert.ok(scored[1].reasons.some((r: string) => r.startsWith('format: ')));
  assert.match(io.err, /2 scored, 2 skipped; mean reward 0\.750; accuracy 0\.500, format 0\.500/);
});

test('a YAML spec file and -o output', async () => {
  const input = join(dir, 'ok.jsonl');
  const output = join(dir, 'out.jsonl');
  const specFile = join(dir, 'spec.yaml');
  writeFileSync(input, lines[0] + '\n');
  writeFileSync(specFile, '- name: format\n  weight: 2\n- name: language\n  weight: 1\n  language: en\n');
  const io = captureIo();
  assert.equal(await runScore([input, '--rewards', specFile, '-o', output], io), 0);
  assert.equal(io.out, '');
  const [scored] = readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(scored.reward, 3);
  assert.deepEqual(scored.reasons, ['format: well formed', 'language: 1/1 units in Latin script (en)']);
});

test('a bad spec or missing input is a usage error', async () => {
  const badSpec = join(dir, 'bad.json');
  const input = join(dir, 'one.jsonl');
  writeFileSync(badSpec, JSON.stringify([{ name: 'format', weight: 'heavy' }]));
  writeFileSync(input, lines[0] + '\n');
  const io = captureIo();
  assert.equal(await runScore([input, '--rewards', badSpec], io), 2);
  assert.match(io.err, /invalid reward spec/);
  assert.equal(await runScore([join(dir, 'missing.jsonl')], captureIo()), 2);
  assert.equal(await runScore([], captureIo()), 2);
});
