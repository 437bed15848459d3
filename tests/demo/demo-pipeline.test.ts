import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { ensureStack } from '../helpers/stack';
import { testClient, withWorkers } from '../helpers/workers';
import { runDemoPipelines } from '../../cli/demo';
import { DemoFileSchema } from '../../cli/demo-specs';
import { ArtifactStore } from '../../storage/artifact-store';

/**
 * The demo's shape (every phase kind, all three runs) at CI size: a tiny model, a few steps each.
 * The cold-start SFT memorises four one-step problems, and rejection sampling and distillation
 * sample those same prompts, so that they find correct samples to keep (they fail when there are
 * none). The student is pretrained by its own pipeline first and R1 distils into that checkpoint.
 */
const tiny = { vocabSize: 259, hiddenSize: 32, intermediateSize: 64, numLayers: 1, numHeads: 2, numKvHeads: 1, maxSeqLen: 96 };
const evalSettings = { dataset: 'heldout', samples: 2, sampling: { maxNewTokens: 48 } };
const rewards = [{ name: 'accuracy', weight: 1 }, { name: 'format', weight: 0.5 }, { name: 'language', weight: 0.1, language: 'en' }];
const grpo = { kind: 'grpo', dataset: 'coldstart', steps: 2, promptsPerStep: 2, colocate: true, sampling: { maxNewTokens: 48 }, grpo: { groupSize: 2, beta: 0.01 }, optimizer: { lr: 1e-4 }, checkpointEvery: 2, rewards, eval: evalSettings };
const sftLoop = { steps: 2, batchSize: 4, checkpointEvery: 2, optimizer: { lr: 1e-3 } };
const common = { seed: 1, runtime: { chatTemplate: 'plain' }, timeouts: { heartbeatSeconds: 10 } };

const file = DemoFileSchema.parse({
  // One engine thread, as the demo's own worker has: nothing stands in the way of bit-for-bit runs.
  worker: { kind: 'cpu', threads: 1 },
  task: { seed: 1, heldoutPercent: 25, coldStart: [4], prompts: [4], heldout: [0, 2], pretrain: { documents: 16, levels: [1, 2], taggedShare: 0.5 } },
  student: { ...common, model: { config: { ...tiny, hiddenSize: 8, intermediateSize: 8 } }, phases: [{ kind: 'pretrain', dataset: 'pretrain', ...sftLoop }] },
  r1: {
    ...common,
    model: { config: tiny },
    phases: [
      { kind: 'pretrain', dataset: 'pretrain', ...sftLoop },
      { kind: 'eval', ...evalSettings, rewards: [{ name: 'accuracy', weight: 1 }] },
      { kind: 'sft', dataset: 'coldstart', steps: 60, batchSize: 4, checkpointEvery: 30, optimizer: { lr: 1e-2, minLrRatio: 1 }, eval: evalSettings },
      grpo,
      { kind: 'rejection-sampling', dataset: 'coldstart', samplesPerPrompt: 2, sampling: { maxNewTokens: 48, temperature: 0.5 }, rewards, sftFrom: 'current', sft: { ...sftLoop, optimizer: { lr: 1e-4 } }, eval: evalSettings },
      { ...grpo, steps: 1 },
      { kind: 'distill', dataset: 'coldstart', samplesPerPrompt: 2, sampling: { maxNewTokens: 48, temperature: 0.5 }, rewards, sft: sftLoop, eval: evalSettings },
    ],
  },
  r1Zero: { ...common, phases: [{ ...grpo, steps: 3 }] },
});

before(async () => {
  await ensureStack();
});

test('a CI-sized demo runs the student base, R1 and R1-Zero through real workers and produces the table and the reports', async () => {
  const client = await testClient();
  const store = ArtifactStore.fromEnv();
  const lines: string[] = [];
  const demo = await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], () =>
    runDemoPipelines(client, store, file, { id: `demo-ci-${randomUUID().slice(0, 8)}`, log: (l) => lines.push(l) }),
    file.worker,
  );

  assert.ok(demo.student, 'the student pipeline ran');
  assert.deepEqual(demo.student.rows.map((r) => r.phase), ['0-pretrain']);
  const studentBase = demo.student.result.phases[0].checkpoint;
  const distill = demo.r1.spec.phases.find((p) => p.kind === 'distill');
  assert.deepEqual(distill?.kind === 'distill' && distill.student, { checkpoint: studentBase.uri }, 'R1 distils into the pretrained student');
  const phases = demo.r1.rows.map((r) => r.phase);
  assert.deepEqual(phases, ['0-pretrain', '1-eval', '2-sft', '3-grpo', '4-rejection-sampling', '5-grpo', '6-distill teacher', '6-distill student']);
  for (const row of demo.r1.rows.filter((r) => r.phase !== '0-pretrain')) {
    assert.ok(row.heldout && Number.isFinite(row.heldout.pass1) && Number.isFinite(row.heldout.meanLength), `${row.phase} has held-out metrics`);
  }
  assert.ok(demo.r1.rows.filter((r) => !r.phase.endsWith('student')).every((r) => (r.wallSeconds ?? 0) > 0), 'every phase has a wall time');
  assert.deepEqual(demo.zero.rows.map((r) => r.phase), ['0-grpo']);
  assert.match(demo.table, /pass@1/);
  assert.match(demo.table, /GRPO \(3-grpo\) vs cold-start SFT/);
  assert.match(demo.table, /distillation: pretrained student pass@1 .* with \d+ \/ \d+ parameters/);
  assert.match(demo.table, /demo wall time: \d+s/);
  // Under the table rows: the machine that produced them, from the checkpoints' manifests; one thread per engine, so no warning.
  assert.match(demo.table, new RegExp(`\\n${demo.zero.rows.at(-1)!.run} .*\\nproduced on ${cpus()[0].model.trim()}, \\d+ cores?, \\S+ · onnxruntime [\\d.]+ cpu, 1 intra-op thread\\nS3 at the end: [\\d.]+ MB before retention, [\\d.]+ MB after \\(0 checkpoints deleted; kept: everything\\)\\n\\n`));
  assert.doesNotMatch(demo.table, /not bit-reproducible/);
  assert.match(demo.table, /R1-Zero: pass@1 .* after 3 GRPO steps/);
  assert.ok(lines.some((l) => /\[[#.]{24}\]/.test(l)), 'progress bars were drawn');

  for (const [run, grpoPhases] of [[demo.r1, ['3-grpo', '5-grpo']], [demo.zero, ['0-grpo']]] as const) {
    const html = (await store.getBytes(run.report)).toString('utf8');
    assert.doesNotMatch(html, /<script|<link|src=|href=/, 'self-contained');
    for (const phase of grpoPhases) {
      const section = html.split(`<h3>${phase}</h3>`)[1]?.split('<h3>')[0].split('<h2>')[0] ?? '';
      for (const title of ['reward', 'accuracy', 'KL', 'clip fraction', 'response length']) {
        assert.match(section, new RegExp(`<svg[^>]*aria-label="${title}[^"]*"[\\s\\S]*?<path d="M`), `${run.id} ${phase}: plot "${title}" with data`);
      }
    }
    const producers = html.split('What produced each phase')[1]?.split('<h2>')[0] ?? '';
    for (const phase of run.result.phases) {
      assert.match(producers, new RegExp(`<td>${phase.name}</td><td>[^<]*</td><td>r1-pipeline [^<]*onnxruntime [^<]*spec [0-9a-f]{12}</td><td>yes, in the same environment</td>`), `${run.id} ${phase.name}`);
    }
    assert.match(html, /Checkpoint lineage/);
    assert.match(html, /\(new weights\)/, 'lineage reaches a model made from scratch');
  }
});
