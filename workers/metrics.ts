import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metrics } from '../schemas/metrics';

/** What an activity's input tells about where it belongs. */
interface Where {
  pipelineId?: string;
  phase?: string;
}

/** The results the metrics read: a training call's (`metrics`), a rollout's (`scored`), a verification's, an evaluation's. */
interface Reported {
  metrics?: Metrics;
  scored?: { metrics: Metrics };
  samples?: number;
  meanLength?: number;
  timings?: Metrics;
  pass1?: number;
}

const SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

/**
 * The product's Prometheus metrics of one worker process, read off its activities as they finish
 * (an activity interceptor: activities stay unaware of it). Per pipeline and phase, the latest
 * training step's time, tokens/s, loss, reward, accuracy on its rollouts, KL and clip fraction;
 * per activity type and task queue, how long activities waited to be picked up and how long they
 * ran. The Temporal SDK's own worker metrics are served beside them (`serveMetrics`).
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly queueWait: Histogram;
  private readonly activitySeconds: Histogram;
  private readonly phase: Record<'stepSeconds' | 'tokensPerSecond' | 'loss' | 'reward' | 'accuracy' | 'kl' | 'clipFraction' | 'step', Gauge>;
  private readonly rolloutTokensPerSecond: Gauge;
  private readonly evalPass1: Gauge;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'r1_' });
    const registers = [this.registry];
    this.queueWait = new Histogram({
      name: 'r1_activity_queue_wait_seconds',
      help: 'Time from an activity attempt being scheduled to a worker starting it',
      labelNames: ['activity', 'task_queue'],
      buckets: SECONDS,
      registers,
    });
    this.activitySeconds = new Histogram({
      name: 'r1_activity_seconds',
      help: 'Run time of activities that finished on this worker, by outcome',
      labelNames: ['activity', 'task_queue', 'outcome'],
      buckets: SECONDS,
      registers,
    });
    const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['pipeline', 'phase'], registers });
    this.phase = {
      step: gauge('r1_train_step', 'The last training step this worker applied'),
      stepSeconds: gauge('r1_train_step_seconds', 'Wall time of the last training step'),
      tokensPerSecond: gauge('r1_train_tokens_per_second', 'Tokens trained on per second in the last training call'),
      loss: gauge('r1_train_loss', 'Loss of the last training step'),
      reward: gauge('r1_reward', 'Mean reward of the last scored rollouts (the last GRPO step, or a sampled shard)'),
      accuracy: gauge('r1_accuracy', 'Share of correct answers among the last scored rollouts'),
      kl: gauge('r1_kl', 'KL to the reference policy (k3) at the last GRPO step'),
      clipFraction: gauge('r1_clip_fraction', 'Share of tokens whose ratio was clipped (low + high) at the last GRPO step'),
    };
    this.rolloutTokensPerSecond = gauge('r1_rollout_tokens_per_second', 'Tokens generated per second of engine time in the last rollout shard');
    this.evalPass1 = new Gauge({ name: 'r1_eval_pass1', help: 'pass@1 of the last held-out evaluation', registers });
  }

  /** For `Worker.create({ interceptors: { activity: [metrics.interceptor] } })`. */
  readonly interceptor: ActivityInterceptorsFactory = (ctx: Context) => ({
    inbound: {
      execute: async (input, next) => {
        const { activityType, taskQueue, currentAttemptScheduledTimestampMs } = ctx.info;
        const labels = { activity: activityType, task_queue: taskQueue };
        this.queueWait.observe(labels, Math.max(0, Date.now() - currentAttemptScheduledTimestampMs) / 1000);
        const began = performance.now();
        try {
          const result = await next(input);
          this.activitySeconds.observe({ ...labels, outcome: 'completed' }, (performance.now() - began) / 1000);
          this.record(activityType, (input.args[0] ?? {}) as Where, (result ?? {}) as Reported);
          return result;
        } catch (err) {
          this.activitySeconds.observe({ ...labels, outcome: 'failed' }, (performance.now() - began) / 1000);
          throw err;
        }
      },
    },
  });

  private record(activity: string, where: Where, result: Reported): void {
    const labels = { pipeline: where.pipelineId ?? '', phase: where.phase ?? '' };
    const set = (gauge: Gauge, value: number | undefined) => {
      if (value !== undefined && Number.isFinite(value)) gauge.set(labels, value);
    };
    if (activity === 'trainGrpoStep' || activity === 'trainSftSteps') {
      const m = result.metrics ?? {};
      set(this.phase.step, (result as { step?: number }).step);
      set(this.phase.stepSeconds, m.stepSeconds);
      set(this.phase.tokensPerSecond, m.tokensPerSecond);
      set(this.phase.loss, m.loss);
      set(this.phase.reward, m.reward);
      set(this.phase.accuracy, m.accuracy);
      set(this.phase.kl, m.kl);
      if (m.clipLow !== undefined && m.clipHigh !== undefined) set(this.phase.clipFraction, m.clipLow + m.clipHigh);
    } else if (activity === 'generateRollouts' || activity === 'verifyRollouts') {
      const scored = activity === 'generateRollouts' ? result.scored?.metrics : result.metrics;
      set(this.phase.reward, scored?.reward);
      set(this.phase.accuracy, scored?.pass1);
      const engineMs = result.timings?.rolloutEngineMs;
      if (result.samples !== undefined && result.meanLength !== undefined && engineMs) set(this.rolloutTokensPerSecond, (result.samples * result.meanLength) / (engineMs / 1000));
    } else if (activity === 'evaluate' && result.pass1 !== undefined) {
      this.evalPass1.set(result.pass1);
    }
  }
}

/**
 * Serves `GET /metrics` on `port`: the product's metrics, then the Temporal SDK's, which its
 * runtime exports on `sdkAddress` (workers/runtime.ts), so that one scrape target has both.
 */
export async function serveMetrics(metrics: WorkerMetrics, port: number, sdkAddress: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found: GET /metrics\n');
      return;
    }
    void (async () => {
      const sdk = await fetch(`http://${sdkAddress}/metrics`).then((r) => r.text(), (err: unknown) => `# Temporal SDK metrics unavailable: ${(err as Error).message}\n`);
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(`${await metrics.registry.metrics()}\n${sdk}`);
    })().catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
  return server;
}

/** A TCP port free on 127.0.0.1 now, for the SDK's exporter (which only this process reads). */
export async function freeLocalPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
