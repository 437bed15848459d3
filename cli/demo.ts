import { resolve } from 'node:path';
import { Client } from '@temporalio/client';
import { stackUp } from '../infra/local/stack';
import { projectRoot } from '../infra/local/paths';
import { connectClient, connectWorker } from '../infra/temporal-connection';
import { temporalEnv, LOCAL } from '../schemas/environment';
import { createWorkers, runWorkers } from '../workers/worker';
import { installRuntime } from '../workers/runtime';
import type { PipelineResult } from '../workflows/pipeline';
import { loadSpecFile } from './spec-file';
import { startPipeline } from './pipelines';

/** `npm start`: the embedded stack, an in-process worker, and the example pipeline, end to end. */
export async function runDemo(specPath = resolve(projectRoot, 'examples', 'minimal.yaml')): Promise<number> {
  const spec = loadSpecFile(specPath);
  installRuntime('ERROR');
  const info = await stackUp((line) => console.log(line));
  console.log(`stack ready in ${(info.coldStartMs / 1000).toFixed(1)}s: Temporal ${info.temporalAddress}, S3 ${info.s3Endpoint}`);

  const group = await createWorkers({ connection: await connectWorker(), roles: ['orchestration', 'cpu', 'compute'] });
  const running = runWorkers(group);
  try {
    const client = new Client({ connection: await connectClient(), namespace: temporalEnv().namespace });
    const handle = await startPipeline(client, spec, `demo-${Date.now().toString(36)}`);
    console.log(`pipeline ${handle.workflowId} started`);
    if (info.temporalUi) console.log(`watch it: ${info.temporalUi}/namespaces/${LOCAL.namespace}/workflows/${handle.workflowId}`);
    const result: PipelineResult = await handle.result();
    for (const [name, ref] of Object.entries(result.datasets)) console.log(`dataset ${name}: ${ref.rows} rows at ${ref.uri}`);
    for (const phase of result.phases) console.log(`phase ${phase.index} ${phase.kind}: ${JSON.stringify(phase.metrics)}`);
    console.log('done. `npm run r1 -- stack down` stops the embedded servers.');
    return 0;
  } finally {
    group.workers.forEach((w) => w.shutdown());
    await running;
  }
}
