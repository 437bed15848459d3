import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startPipeline } from '../../cli/pipelines';
import { temporalEnv } from '../../schemas/environment';
import { PHASES, tinySpec } from '../fixtures/tiny-pipeline';
import { r1 } from '../helpers/cli';
import { terminateIfRunning } from '../helpers/pipelines';
import { ensureStack } from '../helpers/stack';
import { testClient, withWorkers } from '../helpers/workers';
import { withBrowser } from './browser';
import { FLAKY_MESSAGE, withFlakyVerifier } from './flaky-verifier';
import { TemporalUi } from './temporal-ui';

/** The GRPO step whose reward verification fails once and is retried. */
const FLAKY_STEP = 2;

test('the Temporal Web UI audits a pipeline: its phases, GRPO steps, and a failure that was retried', { timeout: 300_000 }, async (t) => {
  const stack = await ensureStack();
  if (!stack.temporalUi) return t.skip('Temporal is external here: no embedded Web UI to open');

  const id = `ui-${randomUUID().slice(0, 8)}`;
  const grpo = `${id}/1-grpo`;
  let uiPhases: string[] = [];

  await withFlakyVerifier(FLAKY_STEP, () =>
    withWorkers(['orchestration', 'rollout', 'train'], async () => {
      const handle = await startPipeline(await testClient(), tinySpec([PHASES.sft, { ...PHASES.grpo, verifyOn: 'cpu' }]), id);
      await handle.result().finally(() => terminateIfRunning(handle));

      // Browse while the workers still run: the UI asks a worker for the pipeline's current details.
      await withBrowser(async (context) => {
        const ui = new TemporalUi(await context.newPage(), stack.temporalUi!, temporalEnv().namespace);

        await t.test('the pipeline is listed, and a search on R1Phase finds the phase workflow', async () => {
          assert.ok((await ui.listWorkflows('WorkflowType="r1Pipeline"')).includes(id));
          await ui.screenshot('1-pipelines');
          // Phase workflows keep their phase; a pipeline's R1Phase follows it (ours is `done` now).
          const found = await ui.listWorkflows('R1Phase="1-grpo"');
          assert.ok(found.includes(grpo), `R1Phase="1-grpo" listed ${found.join(', ')}`);
          assert.ok(!found.includes(id) && !found.includes(`${id}/0-sft`), `R1Phase="1-grpo" listed ${found.join(', ')}`);
          await ui.screenshot('2-search-r1phase');
        });

        await t.test("the pipeline's page shows its phases in order, its summary, details, memo and search attributes", async () => {
          await ui.listWorkflows(`WorkflowId="${id}"`);
          await ui.openWorkflow(id);
          await ui.openTab('Relationships');
          // The UI lists children newest first.
          const children = await ui.linkedWorkflows(`${id}/`);
          assert.deepEqual(children, [grpo, `${id}/0-sft`, `${id}/datasets`]);
          uiPhases = children.reverse().filter((c) => /\/\d+-/.test(c)).map((c) => c.slice(id.length + 1));
          await ui.screenshot('3-pipeline-relationships');

          await ui.openTab('Timeline');
          await ui.waitForText(`${id} phase 1: grpo`);
          await ui.waitForText(`${id} phase 0: sft`);
          await ui.screenshot('4-pipeline-timeline', ui.page.getByText(`${id} phase 0: sft`));

          await ui.openTab('User Metadata');
          await ui.frameText(/R1 pipeline: sft -> grpo/);
          // The UI's markdown typesets "3/3" with a fraction slash.
          await ui.frameText(/completed · phase done · step 3[/\u2044]3 · pass1/);
          await ui.frameText(/latest checkpoint made by r1-pipeline .* · onnxruntime [\d.]+ cpu/);
          await ui.screenshot('5-pipeline-details');

          await ui.openTab('Memo');
          await ui.waitForText(/"specHash": "[0-9a-f]{64}"/);
          await ui.waitForText('"summary": "sft -> grpo"');
          await ui.openTab('Search Attributes');
          for (const expected of ['"R1Phase": "done"', `"R1Pipeline": "${id}"`, '"R1Status": "completed"', '"R1Step": 3']) {
            await ui.waitForText(expected);
          }
        });

        await t.test("a GRPO phase's history names the phase, step and shard of its rollout, verification and training activities", async () => {
          await ui.listWorkflows(`WorkflowId="${grpo}"`);
          await ui.openWorkflow(grpo);
          // The timeline marks a retried activity with its attempt count: "2 • verifyRollouts • ...".
          await ui.waitForText(`2 • verifyRollouts • 1-grpo: verify step ${FLAKY_STEP}`);
          await ui.screenshot('6-grpo-timeline', ui.page.getByText(`verifyRollouts • 1-grpo: verify step ${FLAKY_STEP}`));

          // The compact history has one row per activity: its type, summary and attempts.
          await ui.openTab('Event History');
          await ui.page.getByRole('button', { name: 'Compact' }).click();
          for (const step of [1, 2, 3]) {
            const attempts = step === FLAKY_STEP ? 2 : 1;
            await ui.eventRow(new RegExp(`Activity Type generateRollouts Summary 1-grpo: rollouts step ${step} shard 1/2 Attempt 1`));
            await ui.eventRow(new RegExp(`Activity Type generateRollouts Summary 1-grpo: rollouts step ${step} shard 2/2 Attempt 1`));
            await ui.eventRow(new RegExp(`Activity Type verifyRollouts Summary 1-grpo: verify step ${step} Attempt ${attempts}`));
            await ui.eventRow(new RegExp(`Activity Type trainGrpoStep Summary 1-grpo: train step ${step}( \\+ checkpoint)? Attempt 1`));
          }
          await ui.screenshot('7-grpo-history', await ui.eventRow(new RegExp(`verifyRollouts Summary 1-grpo: verify step ${FLAKY_STEP} `)));
        });

        await t.test('the verification that failed once shows its failure and the retry that succeeded', async () => {
          const retried = await ui.eventRow(new RegExp(`verifyRollouts Summary 1-grpo: verify step ${FLAKY_STEP} Attempt 2`));
          const details = await ui.expandEventRow(retried);
          const lastFailure = details.getByText('Last Failure', { exact: true });
          await lastFailure.waitFor();
          const text = await details.innerText();
          const story = [
            'Activity Task Scheduled',
            `Summary\\s+1-grpo: verify step ${FLAKY_STEP}`,
            'Activity Task Started',
            'Attempt\\s+2',
            'Last Failure',
            `"message": "${FLAKY_MESSAGE} at 1-grpo step ${FLAKY_STEP}`,
            'Activity Task Completed',
          ];
          assert.match(text, new RegExp(story.join('[\\s\\S]*')));
          await ui.screenshot('8-grpo-retry', lastFailure);
        });
      });
    }),
  );

  await t.test('`r1 history` prints the same audit in the terminal', async () => {
    assert.deepEqual(uiPhases, ['0-sft', '1-grpo']);
    const audit = await r1('history', id);
    assert.equal(audit.code, 0, audit.stderr);
    for (const phase of uiPhases) assert.match(audit.stdout, new RegExp(`^${phase}\\s+completed`, 'm'));
    assert.match(audit.stdout, new RegExp(`verifyRollouts \\(1-grpo: verify step ${FLAKY_STEP}\\): completed after 2 attempts`));
    assert.ok(audit.stdout.includes(`${FLAKY_MESSAGE} at 1-grpo step ${FLAKY_STEP}`), audit.stdout);
  });
});
