import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ensureStack } from '../helpers/stack';
import { testClient, withWorkers } from '../helpers/workers';
import { startPipeline } from '../../cli/pipelines';
import { decodeJsonl } from '../../activities/jsonl';
import type { SampleScore } from '../../schemas/rewards';
import type { Rollout } from '../../schemas/rollouts';
import { ArtifactStore } from '../../storage/artifact-store';
import type { PipelineResult } from '../../workflows/pipeline';
import { tinySpec } from '../fixtures/tiny-pipeline';

before(async () => {
  await ensureStack();
});

/**
 * A code task end to end: SFT teaches a tiny model to answer every prompt with one program (it
 * doubles its input), so its outputs are known. For "double" that program is right, for "triple"
 * it is wrong; the code reward must say so wherever a pipeline scores: held-out evaluation, GRPO's
 * rollouts (on the CPU queue, where the sandbox is) and rejection sampling's filter. Each sample
 * carries its dataset row's tests from the dataset to the sandbox.
 */
const program = '<think>d</think><answer>```python\nprint(2*int(input()))\n```</answer>';
const tests = {
  double: [{ input: '3\n', output: '6' }, { input: '10\n', output: '20' }],
  triple: [{ input: '3\n', output: '9' }],
};
const rows = Object.entries(tests).map(([prompt, t]) => ({ prompt, tests: t, completion: program }));
const greedy = { maxNewTokens: 80, temperature: 0 };
const code = [{ name: 'code', weight: 1 }];

const spec = tinySpec(
  [
    { kind: 'sft', dataset: 'code', steps: 150, batchSize: 2, checkpointEvery: 150, optimizer: { lr: 0.01, minLrRatio: 1 } },
    { kind: 'eval', dataset: 'code', samples: 1, sampling: greedy, rewards: code },
    { kind: 'grpo', dataset: 'code', steps: 1, promptsPerStep: 2, sampling: greedy, grpo: { groupSize: 2 }, optimizer: { lr: 1e-4 }, rewards: code },
    { kind: 'rejection-sampling', dataset: 'code', samplesPerPrompt: 2, sampling: greedy, rewards: code, sftFrom: 'current', sft: { steps: 1, batchSize: 1, checkpointEvery: 1, optimizer: { lr: 1e-5 } } },
  ],
  { datasets: { code: { kind: 'inline', rows } } },
);

test('a code reward scores a pipeline\'s programs in the sandbox: 1 for a correct program, 0 for a wrong one', async () => {
  const client = await testClient();
  const store = ArtifactStore.fromEnv();
  const id = `code-${randomUUID().slice(0, 8)}`;
  const result: PipelineResult = await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => (await startPipeline(client, spec, id)).result());
  const [, evaluation, grpo, rejection] = result.phases;

  // Evaluation: one prompt of two solved.
  assert.equal(evaluation.metrics.pass1, 0.5, JSON.stringify(evaluation.metrics));

  // GRPO's rollouts carry their rows' tests, and their scores say which program passed.
  const rollouts = decodeJsonl<Rollout>(await store.getBytes({ uri: store.uri(store.key(`pipelines/${id}/rollouts/2-grpo/step-00000001/shard-0.jsonl`)) }));
  const scores = decodeJsonl<SampleScore>(await store.getBytes({ uri: store.uri(store.key(`pipelines/${id}/rewards/2-grpo/step-00000001.jsonl`)) }));
  assert.equal(rollouts.length, 4);
  rollouts.forEach((rollout, i) => {
    const prompt = rows[rollout.row].prompt as keyof typeof tests;
    assert.deepEqual(rollout.reference.tests, tests[prompt]);
    assert.equal(rollout.text, program, 'greedy sampling gives the program SFT taught');
    const { value, reason } = scores[i].breakdown.code;
    if (prompt === 'double') assert.deepEqual({ value, reason }, { value: 1, reason: '2/2 tests passed' });
    else assert.deepEqual({ value, reason }, { value: 0, reason: '0/1 tests passed; test 1: wrong output' });
  });
  assert.equal(grpo.metrics.reward, 0.5);

  // Rejection sampling keeps the correct program only: one prompt, one (deduplicated) sample.
  assert.equal(rejection.metrics.kept, 1);
  assert.equal(rejection.metrics.promptsWithCorrect, 1);
});
