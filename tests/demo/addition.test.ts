import assert from 'node:assert/strict';
import { test } from 'node:test';
import { smolDemoSpec } from '../../cli/demo-smol';
import { extractAnswer } from '../../rewards/extract';
import { generateAdditionDatasets } from '../../tasks/addition';

test('the addition task: distinct problems, no held-out problem trained on, completions whose boxed answer is the gold one', () => {
  const d = generateAdditionDatasets({ seed: 3, maxOperand: 20, coldStart: 30, prompts: 100, heldout: 40 });
  assert.deepEqual([d.coldStart.length, d.prompts.length, d.heldout.length], [30, 100, 40]);
  const prompts = [...d.coldStart, ...d.prompts, ...d.heldout].map((r) => r.prompt);
  assert.equal(new Set(prompts).size, prompts.length);
  for (const row of d.coldStart) assert.equal(extractAnswer(row.completion!).answer, row.answer);
  assert.deepEqual(generateAdditionDatasets({ seed: 3, maxOperand: 20, coldStart: 30, prompts: 100, heldout: 40 }), d, 'a function of its config');
  assert.throws(() => generateAdditionDatasets({ seed: 1, maxOperand: 3, coldStart: 5, prompts: 5, heldout: 5 }), /15 distinct problems do not exist/);
});

test("the smol demo's spec is valid: the imported model in its own chat template, evaluated before and after a cold start and GRPO", () => {
  const uri = 's3://b/pipelines/smollm2-135m-instruct/checkpoints/import/step-00000000/manifest.json';
  const spec = smolDemoSpec(uri);
  assert.deepEqual(spec.model, { checkpoint: uri });
  assert.equal(spec.runtime.chatTemplate, 'model');
  assert.deepEqual(spec.phases.map((p) => p.kind), ['eval', 'sft', 'grpo']);
});
