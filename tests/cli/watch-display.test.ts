import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Display, progressBars, progressLine } from '../../cli/watch';
import type { Progress } from '../../workflows/messages';

const progress: Progress = {
  status: 'running',
  phase: '2-grpo',
  step: 3,
  totalSteps: 12,
  metrics: { reward: 0.625, pass1: 0.5, loss: 0.12345, kl: 0.01 },
  checkpoint: null,
  finished: [],
};

function recorder(isTTY: boolean) {
  const chunks: string[] = [];
  return { isTTY, chunks, write: (chunk: string) => chunks.push(chunk) > 0 };
}

test('a progress line names the phase i/n, the step and the glanceable metrics', () => {
  assert.equal(progressLine(progress, 5), 'running · phase 3/5 2-grpo · step 3/12 · reward 0.6250  accuracy 0.5000  loss 0.1235');
  assert.equal(progressLine({ ...progress, phase: 'datasets', step: 0, totalSteps: 0, metrics: {} }, 5), 'running · phase 0/5 datasets');
  assert.equal(progressLine({ ...progress, status: 'completed', phase: 'done', metrics: {} }, 5), 'completed · phase 5/5 done · step 3/12');
});

test('progress bars fill in proportion; the running phase counts by its steps', () => {
  const [title, phases, steps] = progressBars('p1', progress, 4);
  assert.equal(title, 'p1  running');
  assert.equal(phases, `  phases [${'#'.repeat(14)}${'.'.repeat(10)}] 3/4 2-grpo`); // 2.25 of 4 phases
  assert.match(steps, /^ {2}steps {2}\[#{6}\.{18}\] 3\/12  reward 0\.6250/);
});

test('on a terminal the block is redrawn in place; elsewhere a line is appended only when it changed', () => {
  const tty = recorder(true);
  const display = new Display(tty);
  display.show(['a', 'b']);
  display.show(['a', 'b']);
  display.show(['a', 'c']);
  assert.deepEqual(tty.chunks, ['\x1b[2Ka\n\x1b[2Kb\n', '\x1b[2A', '\x1b[2Ka\n\x1b[2Kc\n']);

  const pipe = recorder(false);
  const lines = new Display(pipe);
  for (const l of ['x', 'x', 'y', 'x']) lines.show([l]);
  assert.deepEqual(pipe.chunks, ['x\n', 'y\n', 'x\n']);
});
