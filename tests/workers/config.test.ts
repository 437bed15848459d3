import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDevice, workerConfig } from '../../workers/config';
import { taskQueue } from '../../workflows/task-queues';

test('a worker takes its queues, device and threads from its flags, else from the environment', () => {
  assert.deepEqual(workerConfig({}, {}), { roles: ['orchestration', 'cpu', 'rollout', 'train'], device: { kind: 'cpu' }, logFormat: 'text' });
  const env = { R1_WORKER_QUEUES: 'rollout', R1_WORKER_DEVICE: 'cpu', R1_WORKER_THREADS: '4', R1_METRICS_PORT: '9464', R1_LOG_FORMAT: 'json' };
  assert.deepEqual(workerConfig({}, env), { roles: ['rollout'], device: { kind: 'cpu', threads: 4 }, metricsPort: 9464, logFormat: 'json' });
  assert.deepEqual(workerConfig({ queues: 'train, cpu', device: 'cuda:1', logFormat: 'text' }, { R1_WORKER_DEVICE: 'cpu', R1_LOG_FORMAT: 'json' }), {
    roles: ['train', 'cpu'],
    device: { kind: 'cuda', deviceId: 1 },
    logFormat: 'text',
  });
  assert.deepEqual(parseDevice('cuda', undefined), { kind: 'cuda', deviceId: 0 });
});

test('bad worker settings are refused naming the flag and its variable', () => {
  assert.throws(() => workerConfig({ queues: 'compute' }, {}), /--queues \(R1_WORKER_QUEUES\): unknown queue "compute"; choose from orchestration, cpu, rollout, train/);
  assert.throws(() => workerConfig({}, { R1_WORKER_DEVICE: 'gpu' }), /--device \(R1_WORKER_DEVICE\): "gpu" is not a device; use cpu, cuda or cuda:N/);
  assert.throws(() => workerConfig({ device: 'cpu:1' }, {}), /"cpu:1" is not a device/);
  assert.throws(() => workerConfig({ threads: '0' }, {}), /--threads \(R1_WORKER_THREADS\): "0" is not a positive integer/);
  assert.throws(() => workerConfig({ device: 'cuda:0', threads: '2' }, {}), /a CUDA worker takes none/);
  assert.throws(() => workerConfig({ metricsPort: 'x' }, {}), /--metrics-port \(R1_METRICS_PORT\)/);
  assert.throws(() => workerConfig({}, { R1_LOG_FORMAT: 'xml' }), /--log-format \(R1_LOG_FORMAT\): "xml" is not a log format; choose from text, json/);
});

test('rollout and train queues come in one family per device kind; the others are shared', () => {
  assert.equal(taskQueue('r1-', 'rollout', 'cuda'), 'r1-rollout-cuda');
  assert.equal(taskQueue('r1-', 'train', 'cpu'), 'r1-train-cpu');
  assert.equal(taskQueue('r1-', 'cpu', 'cuda'), 'r1-cpu');
  assert.equal(taskQueue('r1-', 'orchestration', 'cuda'), 'r1-orchestration');
  const gpuTrainers = { rollout: 'cpu' as const, train: 'cuda' as const };
  assert.equal(taskQueue('r1-', 'rollout', gpuTrainers), 'r1-rollout-cpu');
  assert.equal(taskQueue('r1-', 'train', gpuTrainers), 'r1-train-cuda');
});
