#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { Client } from '@temporalio/client';
import { stackDown, stackStatus, stackUp } from '../infra/local/stack';
import { connectClient } from '../infra/temporal-connection';
import { s3Env, temporalEnv, LOCAL } from '../schemas/environment';
import { QUEUE_ROLES } from '../workflows/task-queues';
import { loadSpecFile, SpecError } from './spec-file';
import { PipelineExistsError, pipelineInput, pipelineProgress, startPipeline } from './pipelines';
import { closedBecause, progressLine, watchPipeline } from './watch';
import { ArtifactStore } from '../storage/artifact-store';
import { isNetworkError } from '../storage/errors';
import type { PipelineResult } from '../workflows/pipeline';
import { restartPipeline, RestartRefused } from './restart';
import { formatPipelineAudit, readPipelineAudit } from './history';
import { pauseUpdate, resumeUpdate, stopAfterPhaseUpdate } from '../workflows/messages';

// The AWS SDK versions we pin support Node 20; its notice about future releases is not for users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `r1: the DeepSeek-R1 recipe as durable Temporal workflows

  r1 stack up|down|status          the embedded Temporal + S3 servers (127.0.0.1)
  r1 worker [--queues a,b,c]       serve task queues: ${QUEUE_ROLES.join(', ')} (default: all),
      [--device cpu|cuda:N]        with this hardware (default cpu; rollout and train queues of its kind)
      [--threads N]                onnxruntime intra-op threads per engine on a CPU (1: bit-reproducible)
      [--metrics-port N]           serve Prometheus metrics at :N/metrics
      [--log-format text|json]     json: one object per log line, for log collectors
                                   (or R1_WORKER_QUEUES, R1_WORKER_DEVICE, R1_WORKER_THREADS, R1_METRICS_PORT, R1_LOG_FORMAT)
  r1 init-namespace                register the search attributes in a new cluster's namespace (once)
  r1 start <spec.yaml> [--id ID]   validate a spec and start its pipeline (exit 2 if invalid)
  r1 status <id>                   progress of a pipeline
  r1 watch <id>                    follow a pipeline until it closes (exit 1 if it did not complete)
  r1 pause|resume <id>             hold a pipeline at its next step boundary / let it go on
  r1 stop <id>                     finish the running phase, then stop the pipeline
  r1 restart <id>                  new run of a failed or terminated pipeline: finished phases
                                   are kept, the broken one resumes from its last checkpoint
  r1 history <id> [--json]         the phase audit, read from the workflow histories
  r1 list                          pipelines known to Temporal
  r1 demo [--preset quick|full|smol]  stack up, a worker, and the demo pipelines (R1, R1-Zero), end to end
  r1 report <id> [-o file.html]    HTML report of a finished pipeline, stored in S3 with the run
  r1 gc <id> [--keep-last K] [--keep-every N] [--dry-run]
                                   delete checkpoints in S3 that a retention does not keep (the
                                   spec's, unless given), policy snapshots no rollout needs
  r1 verify <id|manifest-uri>      re-check a checkpoint lineage in S3: files against their SHA-256,
                                   parent links, producers (exit 1 naming the first problem)
  r1 score <in.jsonl> [--rewards SPEC|PRESET] [-o out.jsonl]   score responses offline
  r1 import <folder|s3://prefix|file.gguf> [--name NAME]        a Hugging Face model or GGUF as a checkpoint
                                   (prints its manifest's s3:// uri last)
  r1 export <checkpoint> <dir|s3://prefix> [--dtype bf16|f16|f32]   a folder transformers loads`;

/** What to tell a user whose Temporal or S3 does not answer. */
function unreachable(service: string, address: string, err: unknown): Error {
  const hint = temporalEnv().external || service === 'S3' ? 'check the address and your credentials' : '`r1 stack up` starts the embedded servers';
  return new Error(`cannot reach ${service} at ${address} (${(err as Error).message}); ${hint}`);
}

/** The usage lines of one command (those naming it, and the lines continuing them). */
function usageOf(command: string | undefined): string {
  const lines = USAGE.split('\n');
  const names = (line: string) => /^ {2}r1 (\S+)/.exec(line)?.[1].split('|') ?? [];
  const start = lines.findIndex((line) => command !== undefined && names(line).includes(command));
  if (start < 0) return USAGE;
  let end = start + 1;
  while (end < lines.length && /^ {4,}/.test(lines[end])) end++;
  return `usage:\n${lines.slice(start, end).join('\n')}`;
}

async function client(): Promise<Client> {
  const env = temporalEnv();
  const connection = await connectClient(env).catch((err: unknown) => {
    throw unreachable('Temporal', env.address, err);
  });
  return new Client({ connection, namespace: env.namespace });
}

/** The store as the CLI uses it: an unreachable S3 is reported after seconds, not after the workers' outage budget. */
function cliStore(): ArtifactStore {
  return ArtifactStore.fromEnv({ ...s3Env(), outageBudgetSeconds: 10 });
}

function uiLink(workflowId: string): string | null {
  if (temporalEnv().external) return null;
  return `http://127.0.0.1:${LOCAL.temporalUiPort}/namespaces/${LOCAL.namespace}/workflows/${encodeURIComponent(workflowId)}`;
}

async function stack(action: string | undefined): Promise<number> {
  if (action === 'up') {
    const info = await stackUp((line) => console.log(line));
    console.log(`Temporal  ${info.temporalAddress}`);
    if (info.temporalUi) console.log(`Web UI    ${info.temporalUi}`);
    console.log(`S3        ${info.s3Endpoint} (bucket ${info.bucket})`);
    console.log(`${info.started.length ? `started ${info.started.join(' and ')}` : 'already running'} in ${(info.coldStartMs / 1000).toFixed(1)}s`);
    return 0;
  }
  if (action === 'down') {
    const stopped = await stackDown();
    console.log(stopped.length ? `stopped ${stopped.join(' and ')}` : 'nothing of ours was running');
    return 0;
  }
  if (action === 'status') {
    for (const c of await stackStatus()) {
      console.log(`${c.component.padEnd(9)} ${c.running ? 'up  ' : 'down'}  ${c.managed.padEnd(8)} ${c.pid ? `pid ${c.pid}` : ''}  ${c.address}`);
    }
    return 0;
  }
  console.error('usage: r1 stack up|down|status');
  return 2;
}

async function start(specPath: string | undefined, id: string | undefined): Promise<number> {
  if (!specPath) {
    console.error('usage: r1 start <spec.yaml> [--id ID]');
    return 2;
  }
  const path = resolve(specPath);
  let handle;
  try {
    handle = await startPipeline(await client(), loadSpecFile(path), id, { source: path, store: cliStore() }).catch((err: unknown) => {
      throw isNetworkError(err) ? unreachable('S3', s3Env().endpoint ?? `AWS S3 (${s3Env().region})`, err) : err;
    });
  } catch (err) {
    if (err instanceof SpecError || err instanceof PipelineExistsError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  console.log(`started pipeline ${handle.workflowId} (run ${handle.firstExecutionRunId})`);
  const link = uiLink(handle.workflowId);
  if (link) console.log(`Temporal UI: ${link}`);
  return 0;
}

async function status(id: string | undefined): Promise<number> {
  if (!id) {
    console.error('usage: r1 status <id>');
    return 2;
  }
  const c = await client();
  const handle = c.workflow.getHandle(id);
  const status = (await handle.describe()).status.name;
  if (status === 'RUNNING') {
    console.log(`${id}: RUNNING`);
    const progress = await pipelineProgress(c, id);
    console.log(progressLine(progress, (await pipelineInput(c, id)).spec.phases.length));
    console.log(JSON.stringify(progress, null, 2));
    return 0;
  }
  if (status !== 'COMPLETED') {
    console.log(`${id}: ${status}: ${await handle.result().then(() => 'completed', closedBecause)}`);
    console.log(`continue it with \`r1 restart ${id}\` (finished phases are kept)`);
    return 1;
  }
  const result: PipelineResult = await handle.result();
  const stopped = result.stoppedEarly ? ` (stopped after ${result.phases.length} phases; continue with \`r1 restart ${id}\`)` : '';
  console.log(`${id}: COMPLETED${stopped}`);
  return 0;
}

async function watch(id: string | undefined): Promise<number> {
  if (!id) {
    console.error('usage: r1 watch <id>');
    return 2;
  }
  return watchPipeline(await client(), id);
}

/** The updates that steer a running pipeline, by command. */
const CONTROLS = { pause: pauseUpdate, resume: resumeUpdate, stop: stopAfterPhaseUpdate };

async function control(command: keyof typeof CONTROLS, id: string | undefined): Promise<number> {
  if (!id) {
    console.error(`usage: r1 ${command} <id>`);
    return 2;
  }
  const progress = await (await client()).workflow.getHandle(id).executeUpdate(CONTROLS[command]);
  const where = `phase ${progress.phase}, step ${progress.step}/${progress.totalSteps}`;
  console.log(command === 'stop' ? `${id}: stops when ${progress.phase} finishes` : `${id}: ${progress.status} (${where})`);
  return 0;
}

async function restart(id: string | undefined): Promise<number> {
  if (!id) {
    console.error('usage: r1 restart <id>');
    return 2;
  }
  try {
    const { handle, previous, completed } = await restartPipeline(await client(), id);
    console.log(`restarted ${id} (run ${handle.firstExecutionRunId}) after its ${previous.status.toLowerCase()} run ${previous.runId}`);
    console.log(completed.length ? `kept finished phases: ${completed.map((p) => p.name).join(', ')}` : 'no phase had finished: all run again');
    const link = uiLink(id);
    if (link) console.log(`Temporal UI: ${link}`);
    return 0;
  } catch (err) {
    if (err instanceof RestartRefused) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
}

async function history(id: string | undefined, json: boolean | undefined): Promise<number> {
  if (!id) {
    console.error('usage: r1 history <id> [--json]');
    return 2;
  }
  const audit = await readPipelineAudit(await client(), id);
  console.log(json ? JSON.stringify(audit, null, 2) : formatPipelineAudit(audit));
  return 0;
}

async function list(): Promise<number> {
  const c = await client();
  for await (const wf of c.workflow.list({ query: `WorkflowType = 'r1Pipeline'` })) {
    console.log(`${wf.workflowId.padEnd(32)} ${wf.status.name.padEnd(12)} ${wf.startTime.toISOString()}`);
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'score' && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(usageOf(command));
    return 0;
  }
  if (command === 'score') {
    const { runScore } = await import('./score');
    return runScore(rest);
  }
  if (command === 'import' || command === 'export') {
    const { runModelCommand } = await import('./models');
    return runModelCommand(command, rest);
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      id: { type: 'string' },
      queues: { type: 'string' },
      device: { type: 'string' },
      threads: { type: 'string' },
      'metrics-port': { type: 'string' },
      'log-format': { type: 'string' },
      'keep-last': { type: 'string' },
      'keep-every': { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      preset: { type: 'string' },
      out: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usageOf(command));
    return 0;
  }
  switch (command) {
    case 'stack':
      return stack(positionals[0]);
    case 'worker': {
      const { runWorker } = await import('./worker');
      return runWorker({ ...values, metricsPort: values['metrics-port'], logFormat: values['log-format'] }, (err) => unreachable('Temporal', temporalEnv().address, err));
    }
    case 'init-namespace': {
      const { registerSearchAttributes } = await import('./init-namespace');
      const { namespace } = temporalEnv();
      const { added, present } = await registerSearchAttributes((await client()).connection, namespace);
      console.log(`namespace ${namespace}: ${added.length ? `added ${added.join(', ')}` : 'nothing to add'}${present.length ? `; already there: ${present.join(', ')}` : ''}`);
      return 0;
    }
    case 'start':
      return start(positionals[0], values.id);
    case 'status':
      return status(positionals[0]);
    case 'list':
      return list();
    case 'watch':
      return watch(positionals[0]);
    case 'pause':
    case 'resume':
    case 'stop':
      return control(command, positionals[0]);
    case 'restart':
      return restart(positionals[0]);
    case 'history':
      return history(positionals[0], values.json);
    case 'demo': {
      const { runDemo } = await import('./demo');
      return runDemo(values.preset);
    }
    case 'verify': {
      if (!positionals[0]) {
        console.error('usage: r1 verify <id|manifest-uri>');
        return 2;
      }
      const { runVerify } = await import('./verify');
      const { ArtifactStore } = await import('../storage/artifact-store');
      return runVerify(ArtifactStore.fromEnv(), positionals[0]);
    }
    case 'gc': {
      if (!positionals[0]) {
        console.error(usageOf('gc'));
        return 2;
      }
      const { runGc } = await import('./gc');
      return runGc(await client(), cliStore(), positionals[0], { keepLast: values['keep-last'], keepEvery: values['keep-every'], dryRun: values['dry-run'] });
    }
    case 'report': {
      if (!positionals[0]) {
        console.error('usage: r1 report <id> [-o file.html]');
        return 2;
      }
      const { runReport } = await import('./report');
      const { ArtifactStore } = await import('../storage/artifact-store');
      return runReport(await client(), ArtifactStore.fromEnv(), positionals[0], values.out);
    }
    default:
      console.log(USAGE);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
