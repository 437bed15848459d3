import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { workflowBundle } from '../helpers/workers';
import { projectRoot } from '../../infra/local/paths';

/** Histories recorded from real runs (tests/fixtures/record-histories.ts), kept in the source tree. */
const dir = join(projectRoot, 'tests', 'fixtures', 'histories');

test('recorded histories replay against the current workflow code (determinism)', async () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  const types = new Set(files.map((f) => f.split('-')[0]));
  for (const type of ['r1Pipeline', 'prepareDatasets', 'sftPhase', 'grpoPhase', 'rejectionSamplingPhase', 'distillationPhase', 'evalPhase']) {
    assert.ok(types.has(type), `no recorded history of ${type}`);
  }
  const histories = files.map((f) => {
    const { workflowId, history } = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    return { workflowId, history: historyFromJSON(history) };
  });
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.deepEqual(failures, []);
});
