import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadSpecFile, SpecError, validateSpec } from '../../cli/spec-file';

const model = { config: { vocabSize: 260, hiddenSize: 32, intermediateSize: 64, numLayers: 1, numHeads: 2, numKvHeads: 1, maxSeqLen: 64 } };
const datasets = { math: { kind: 'inline', rows: [{ prompt: '1+1?', answer: '2' }] } };
const valid = { model, datasets, phases: [] };

function problemsOf(spec: unknown): { path: string; message: string }[] {
  try {
    validateSpec(spec);
  } catch (err) {
    assert.ok(err instanceof SpecError, String(err));
    return err.problems;
  }
  assert.fail('spec was accepted');
}

const sft = { kind: 'sft', dataset: 'math', steps: 10, batchSize: 4, optimizer: { lr: 1e-3 } };
const grpo = { kind: 'grpo', dataset: 'math', steps: 1, promptsPerStep: 1, sampling: { maxNewTokens: 8 }, grpo: { groupSize: 4 }, optimizer: { lr: 1e-3 }, rewards: [{ name: 'format' }] };

const lora = { rank: 16, alpha: 32, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] };

const badSpecs: { why: string; spec: unknown; path: string }[] = [
  { why: 'missing model', spec: { datasets, phases: [] }, path: 'model' },
  { why: 'wrong type', spec: { ...valid, seed: 'seven' }, path: 'seed' },
  { why: 'unknown phase kind', spec: { ...valid, phases: [{ kind: 'ppo', dataset: 'math' }] }, path: 'phases.0.kind' },
  { why: 'negative step count', spec: { ...valid, phases: [{ ...sft, steps: -3 }] }, path: 'phases.0.steps' },
  { why: 'zero batch', spec: { ...valid, phases: [{ ...sft, batchSize: 0 }] }, path: 'phases.0.batchSize' },
  { why: 'undeclared dataset', spec: { ...valid, phases: [{ ...sft, dataset: 'nope' }] }, path: 'phases.0.dataset' },
  { why: 'model heads not divisible', spec: { ...valid, model: { config: { ...model.config, numKvHeads: 3 } } }, path: 'model' },
  { why: 'unknown top-level field', spec: { ...valid, modle: {} }, path: '' },
  { why: 'bad dataset uri', spec: { ...valid, datasets: { math: { kind: 's3', uri: 'http://x' } } }, path: 'datasets.math.uri' },
  { why: 'bad pipeline id', spec: { ...valid, id: 'has spaces' }, path: 'id' },
  { why: 'group size of one', spec: { ...valid, phases: [{ ...grpo, grpo: { groupSize: 1 } }] }, path: 'phases.0.grpo.groupSize' },
  { why: 'a clip range below zero', spec: { ...valid, phases: [{ ...grpo, grpo: { groupSize: 4, epsLow: 1.5 } }] }, path: 'phases.0.grpo.epsLow' },
  { why: 'no sampling settings', spec: { ...valid, phases: [{ ...grpo, sampling: undefined }] }, path: 'phases.0.sampling' },
  { why: 'negative learning rate', spec: { ...valid, phases: [{ ...sft, optimizer: { lr: -1 } }] }, path: 'phases.0.optimizer.lr' },
  { why: 'a micro-batch of no sequences', spec: { ...valid, runtime: { memory: { microBatchSize: 0 } } }, path: 'runtime.memory.microBatchSize' },
  { why: 'recompute that is not none, attention or layers', spec: { ...valid, runtime: { memory: { recompute: true } } }, path: 'runtime.memory.recompute' },
  { why: "Adam's beta2 of 1", spec: { ...valid, phases: [{ ...sft, optimizer: { lr: 1e-3, beta2: 1 } }] }, path: 'phases.0.optimizer.beta2' },
  { why: 'a LoRA rank of 0', spec: { ...valid, phases: [{ ...sft, lora: { ...lora, rank: 0 } }] }, path: 'phases.0.lora.rank' },
  { why: 'a fractional LoRA rank', spec: { ...valid, phases: [{ ...grpo, lora: { ...lora, rank: 2.5 } }] }, path: 'phases.0.lora.rank' },
  { why: 'a LoRA alpha of 0', spec: { ...valid, phases: [{ ...grpo, lora: { ...lora, alpha: 0 } }] }, path: 'phases.0.lora.alpha' },
  { why: 'no LoRA targets', spec: { ...valid, phases: [{ ...sft, lora: { ...lora, targets: [] } }] }, path: 'phases.0.lora.targets' },
  { why: 'a LoRA target named twice', spec: { ...valid, phases: [{ ...sft, lora: { ...lora, targets: ['q_proj', 'q_proj'] } }] }, path: 'phases.0.lora.targets' },
  { why: 'LoRA on pretraining', spec: { ...valid, phases: [{ ...sft, kind: 'pretrain', lora }] }, path: 'phases.0' },
];

for (const { why, spec, path } of badSpecs) {
  test(`rejects a spec with ${why}, naming ${path || 'the root'}`, () => {
    const problems = problemsOf(spec);
    assert.ok(
      problems.some((p) => p.path.startsWith(path)),
      `expected a problem at "${path}", got ${JSON.stringify(problems)}`,
    );
  });
}

test("LoRA: an SFT or GRPO phase takes PEFT's settings; a target the architectures lack is named with the ones they have", () => {
  const spec = validateSpec({ ...valid, phases: [{ ...sft, lora }, { ...grpo, lora: { rank: 8, alpha: 8, targets: ['q_proj', 'v_proj'] } }] });
  assert.deepEqual(spec.phases.map((p) => ('lora' in p ? p.lora : undefined)), [lora, { rank: 8, alpha: 8, targets: ['q_proj', 'v_proj'] }]);
  const [problem] = problemsOf({ ...valid, phases: [{ ...grpo, lora: { ...lora, targets: ['q_proj', 'qkv_proj'] } }] });
  assert.equal(problem.path, 'phases.0.lora.targets.1');
  assert.match(problem.message, /unknown target "qkv_proj": the llama, mistral, qwen2 and qwen3 architectures have q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj/);
});

test('every problem is listed, not just the first', () => {
  const problems = problemsOf({ datasets, phases: [{ ...sft, steps: -1, batchSize: 0 }] });
  const paths = problems.map((p) => p.path);
  for (const path of ['model', 'phases.0.steps', 'phases.0.batchSize']) assert.ok(paths.includes(path), JSON.stringify(paths));
});

test('YAML and JSON files both load, with defaults filled in', () => {
  const dir = mkdtempSync(join(tmpdir(), 'r1-spec-'));
  writeFileSync(join(dir, 'spec.yaml'), stringify(valid));
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(valid));
  const fromYaml = loadSpecFile(join(dir, 'spec.yaml'));
  const fromJson = loadSpecFile(join(dir, 'spec.json'));
  assert.deepEqual(fromYaml, fromJson);
  assert.equal(fromYaml.seed, 0);
  assert.deepEqual(fromYaml.runtime, { chatTemplate: 'auto', thinkPrefill: false, device: 'cpu', memory: { recompute: 'none' } });
});

test("runtime: a system prompt needs the model's template; a tokenizer setting is told it is gone", () => {
  const problems = problemsOf({ ...valid, runtime: { chatTemplate: 'r1', systemPrompt: 'Be brief.', tokenizer: { kind: 'byte' } } });
  const messages = problems.map((p) => `${p.path}: ${p.message}`).join('\n');
  assert.match(messages, /tokenizer is gone: the model's checkpoint carries its tokenizer \(r1 import\)/);
  assert.equal(problemsOf({ ...valid, runtime: { chatTemplate: 'r1', systemPrompt: 'Be brief.' } })[0].path, 'runtime.systemPrompt');
  assert.equal(validateSpec({ ...valid, runtime: { chatTemplate: 'model', systemPrompt: 'Be brief.', thinkPrefill: true } }).runtime.systemPrompt, 'Be brief.');
});

test('a spec says what its engines need; threads and GPUs are the workers\' own', () => {
  assert.equal(validateSpec({ ...valid, runtime: { device: 'cuda' } }).runtime.device, 'cuda');
  assert.deepEqual(validateSpec({ ...valid, runtime: { device: { rollout: 'cpu', train: 'cuda' } } }).runtime.device, { rollout: 'cpu', train: 'cuda' });
  const problems = problemsOf({ ...valid, runtime: { device: { kind: 'cpu', threads: 1 } } });
  assert.deepEqual(problems.map((p) => p.path), ['runtime.device']);
  assert.match(problems[0].message, /"cpu", "cuda" or \{ rollout: cpu\|cuda, train: cpu\|cuda \}.*r1 worker --device cpu\|cuda:N --threads N/);
});

test('GRPO settings take their defaults, and travel as one object', () => {
  const phase = validateSpec({ ...valid, phases: [grpo] }).phases[0];
  assert.ok(phase.kind === 'grpo');
  assert.deepEqual(phase.grpo, { groupSize: 4, epsLow: 0.2, epsHigh: 0.28, beta: 0, lossAggregation: 'dapo', scaleRewards: 'group', dynamicSampling: false, iterations: 1, miniBatches: 1 });
  assert.deepEqual(phase.sampling, { maxNewTokens: 8, temperature: 1, topP: 1, topK: 0 });
});

test('a spec in the earlier flat layout is told where each field went', () => {
  const { sampling, grpo: settings, ...flat } = grpo;
  const problems = problemsOf({ ...valid, chatTemplate: 'plain', compute: { device: { kind: 'cpu' } }, phases: [{ ...flat, ...sampling, ...settings, epsHigh: 0.3 }] });
  const messages = problems.map((p) => `${p.path}: ${p.message}`).join('\n');
  for (const hint of ['chatTemplate is now runtime.chatTemplate', 'compute is now runtime.device', 'maxNewTokens is now sampling.maxNewTokens', 'groupSize is now grpo.groupSize', 'epsHigh is now grpo.epsHigh']) {
    assert.ok(messages.includes(hint), `no "${hint}" in:\n${messages}`);
  }
});

test('a file that is not YAML is rejected naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'r1-spec-'));
  const path = join(dir, 'broken.yaml');
  writeFileSync(path, 'model: [unclosed');
  assert.throws(() => loadSpecFile(path), (err: unknown) => err instanceof SpecError && err.message.includes(path));
});

test('a distillation student is a new model from its config or a pretrained checkpoint, not both', () => {
  const distill = {
    kind: 'distill', dataset: 'math', samplesPerPrompt: 2, sampling: { maxNewTokens: 8 }, rewards: [{ name: 'accuracy' }],
    sft: { steps: 1, batchSize: 1, optimizer: { lr: 1e-3 } }, eval: { dataset: 'math', sampling: { maxNewTokens: 8 } },
  };
  const checkpoint = 's3://bucket/pipelines/small/checkpoints/0-pretrain/step-00000100/manifest.json';
  const withStudent = (student: unknown) => ({ ...valid, phases: [{ ...distill, student }] });
  const fromConfig = validateSpec(withStudent(model)).phases[0];
  assert.ok(fromConfig.kind === 'distill' && 'config' in fromConfig.student && fromConfig.student.seed === 0);
  const pretrained = validateSpec(withStudent({ checkpoint })).phases[0];
  assert.ok(pretrained.kind === 'distill');
  assert.deepEqual(pretrained.student, { checkpoint });
  for (const bad of [{}, { ...model, checkpoint }, { checkpoint: 's3://bucket/model.safetensors' }]) {
    assert.ok(problemsOf(withStudent(bad)).some((p) => p.path.startsWith('phases.0.student')), JSON.stringify(bad));
  }
});
