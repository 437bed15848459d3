import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracyReward } from '../../rewards/accuracy';
import { formatReward } from '../../rewards/format';
import { languageReward } from '../../rewards/language';
import { demoFilePath, loadDemoFile, PRESETS, r1Spec, r1ZeroSpec, studentSpec } from '../../cli/demo-specs';
import { parameterShapes } from '../../engine/model';
import { modelConfigSchema } from '../../schemas/model';
import { generateChainDatasets, levelOf, type ChainTaskConfig } from '../../tasks/arithmetic-chain';

const config: ChainTaskConfig = {
  seed: 3,
  heldoutPercent: 25,
  coldStart: [30, 40, 40, 30, 10],
  direct: [10, 10, 10, 10, 10],
  prompts: [20, 40, 40, 30, 20],
  heldout: [0, 10, 10, 10, 10, 10],
  pretrain: { documents: 2000, levels: [1, 2, 3, 4], taggedShare: 0.1 },
  distill: [10, 30, 30, 20, 20],
};

/** The problem a pretraining document is about: its text up to " = " (prose) or "<think>" (tagged). */
const problemOf = (text: string) => text.split(/ = |<think>/)[0];

test('the task is reproducible from its seed, and another seed gives other problems', () => {
  assert.deepEqual(generateChainDatasets(config), generateChainDatasets(config));
  const other = generateChainDatasets({ ...config, seed: 4 });
  assert.notDeepEqual(other.heldout, generateChainDatasets(config).heldout);
});

test('held-out problems appear in no training set, pretraining text included', () => {
  const d = generateChainDatasets(config);
  const heldout = new Set(d.heldout.map((r) => r.prompt));
  assert.equal(heldout.size, d.heldout.length, 'held-out prompts are distinct');
  for (const row of [...d.coldStart, ...d.prompts, ...d.distill]) assert.ok(!heldout.has(row.prompt), `${row.prompt} is held out`);
  for (const row of d.pretrain) assert.ok(!heldout.has(problemOf(row.text!)), `${row.text} is about a held-out problem`);
  const train = [...d.coldStart, ...d.prompts, ...d.distill].map((r) => r.prompt);
  assert.equal(new Set(train).size, train.length, 'cold-start, RL and distillation prompts are all distinct');
});

test('adding distillation prompts or direct cold-start answers changes no other set', () => {
  const without = generateChainDatasets({ ...config, distill: [], direct: [] });
  const withDistill = generateChainDatasets({ ...config, direct: [] });
  assert.deepEqual(without.distill, []);
  assert.deepEqual({ ...withDistill, distill: [] }, without);

  // Direct answers come after the worked cold-start solutions, which stay as they were.
  const withDirect = generateChainDatasets(config);
  const worked = without.coldStart.length;
  assert.deepEqual(withDirect.coldStart.slice(0, worked), without.coldStart);
  assert.deepEqual({ ...withDirect, coldStart: withDirect.coldStart.slice(0, worked) }, withDistill);
  const direct = withDirect.coldStart.slice(worked);
  assert.equal(direct.length, 50);
  for (const row of direct) assert.equal(row.completion, `<think>at once</think><answer>${row.answer}</answer>`);
});

test('every generated answer is verified correct by the math verifier, in the R1 format', () => {
  const d = generateChainDatasets(config);
  for (const row of [...d.coldStart, ...d.prompts, ...d.distill, ...d.heldout]) {
    // An independent check of the generator: the prompt is an ordinary arithmetic expression.
    assert.equal(String(Function(`return ${row.prompt}`)()), row.answer, row.prompt);
    assert.deepEqual(accuracyReward(row.completion!, row.answer!).value, 1, row.completion);
    assert.equal(formatReward(row.completion!).value, 1, row.completion);
    assert.equal(languageReward(row.completion!, 'en').value, 1, row.completion);
  }
  for (const row of d.pretrain) {
    const [prompt, rest] = row.text!.split(/ = |<think>/);
    const answer = row.text!.includes('<think>') ? /<answer>(\d+)<\/answer>/.exec(row.text!)![1] : rest.split(',')[0];
    assert.equal(String(Function(`return ${prompt}`)()), answer, row.text);
  }
});

test('levels are as asked, and the held-out set of each preset is harder than most training problems', () => {
  const d = generateChainDatasets(config);
  const perLevel = (rows: { prompt?: string }[]) => rows.reduce<number[]>((n, r) => ((n[levelOf(r.prompt!) - 1] = (n[levelOf(r.prompt!) - 1] ?? 0) + 1), n), []);
  assert.deepEqual(perLevel(d.coldStart), config.coldStart.map((n, i) => n + (config.direct?.[i] ?? 0)));
  assert.deepEqual(perLevel(d.distill), config.distill);
  assert.deepEqual([0, ...perLevel(d.heldout).slice(1)], config.heldout);

  for (const preset of PRESETS) {
    const { task } = loadDemoFile(demoFilePath(preset));
    const levels = (counts: number[]) => counts.flatMap((n, i) => Array<number>(n).fill(i + 1));
    const train = levels(task.coldStart.map((n, i) => n + (task.direct?.[i] ?? 0) + (task.prompts[i] ?? 0) + (task.distill?.[i] ?? 0))).sort((a, b) => a - b);
    const heldout = levels(task.heldout);
    const trainMedian = train[Math.floor(train.length / 2)];
    assert.ok(Math.max(...heldout) > Math.max(...train, ...task.pretrain.levels), `${preset}: held-out has a level never trained on`);
    assert.ok(heldout.filter((l) => l > trainMedian).length / heldout.length >= 0.5, `${preset}: most held-out problems are above the training median`);
  }
});

test('both presets make valid specs: R1 distils into the pretrained student, of at most a quarter of the teacher', () => {
  const datasets = Object.fromEntries(['pretrain', 'coldstart', 'prompts', 'heldout', 'distill'].map((n) => [n, { kind: 's3' as const, uri: `s3://b/${n}.jsonl` }]));
  const checkpoint = (id: string) => ({ uri: `s3://b/pipelines/${id}/checkpoints/0-pretrain/step-00000001/manifest.json`, sha256: '0'.repeat(64), bytes: 1, pipelineId: id, phase: '0-pretrain', step: 1 });
  const count = (config: unknown) => Object.values(parameterShapes(modelConfigSchema.parse(config))).reduce((n, d) => n + d.reduce((a, b) => a * b, 1), 0);
  for (const preset of PRESETS) {
    const file = loadDemoFile(demoFilePath(preset));
    const student = studentSpec(file, datasets);
    assert.ok(student && 'config' in student.model, `${preset}: a student pipeline that makes a new model`);
    assert.deepEqual(student.phases.map((p) => p.kind), ['pretrain'], `${preset}: the student pipeline only pretrains`);
    const r1 = r1Spec(file, datasets, checkpoint('student'));
    const zero = r1ZeroSpec(file, datasets, checkpoint('r1'));
    assert.deepEqual(zero.model, { checkpoint: checkpoint('r1').uri });
    assert.ok(zero.phases.some((p) => p.kind === 'grpo'));
    const distill = r1.phases.find((p) => p.kind === 'distill');
    assert.ok(distill && 'config' in r1.model);
    assert.deepEqual(distill.student, { checkpoint: checkpoint('student').uri });
    assert.ok(count(student.model.config) <= count(r1.model.config) / 4, `${preset}: student too large`);
    for (const spec of [student, r1, zero]) assert.equal(spec.runtime.device, 'cpu', `${preset}: on the CPU`);
    assert.deepEqual(file.worker, { kind: 'cpu', threads: 1 }, `${preset}: the demo's worker has one onnxruntime thread per engine (reproducible)`);
  }
});

test('a distill phase that names its student keeps it; without a student pipeline one is required', () => {
  const datasets = Object.fromEntries(['pretrain', 'coldstart', 'prompts', 'heldout', 'distill'].map((n) => [n, { kind: 's3' as const, uri: `s3://b/${n}.jsonl` }]));
  const file = loadDemoFile(demoFilePath('quick'));
  const own = { config: { vocabSize: 259, hiddenSize: 16, intermediateSize: 32, numLayers: 1, numHeads: 2, numKvHeads: 1, maxSeqLen: 160 } };
  const phases = (file.r1.phases as Record<string, unknown>[]).map((p) => (p.kind === 'distill' ? { ...p, student: own } : p));
  const named = r1Spec({ ...file, r1: { ...file.r1, phases } }, datasets, { uri: 's3://b/x/manifest.json', sha256: '0'.repeat(64), bytes: 1, pipelineId: 'x', phase: 'p', step: 1 });
  const distill = named.phases.find((p) => p.kind === 'distill');
  assert.ok(distill && 'config' in distill.student && distill.student.config.hiddenSize === 16);
  assert.throws(() => r1Spec({ ...file, student: undefined }, datasets), /student/);
});
