/**
 * What infra/validate.sh's tools cannot see in the deployment files: that they agree with the code.
 * Every worker they start parses as `r1 worker` parses it; together they serve every queue of the
 * topology they promise; they give workers longer to stop than the workers take; GPU workers
 * get a GPU, and only they; metrics ports line up with what Prometheus scrapes; the image copies
 * the CUDA files the engine looks for; and every file the README's Deploy section names exists
 * and is one infra/validate.sh validates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { CUDA_PROVIDER_FILES, onnxruntimeVersion } from '../../engine/device';
import { projectRoot } from '../../infra/local/paths';
import { workerConfig, type WorkerConfig, type WorkerFlags } from '../../workers/config';
import { GRACE_MS } from '../../workers/worker';
import { taskQueue } from '../../workflows/task-queues';

const read = (path: string) => readFileSync(join(projectRoot, path), 'utf8');
const yamlFiles = (dir: string) => readdirSync(join(projectRoot, dir)).filter((f) => f.endsWith('.yaml')).map((f) => `${dir}/${f}`);

/** A worker as a deployment file starts it: its `r1 worker` arguments and environment. */
interface StartedWorker {
  where: string;
  args: string[];
  env: Record<string, string>;
  image: string;
  gpu: boolean;
  graceSeconds: number;
  metricsPort?: number;
}

/** `r1 worker` flags from an argument list, as the CLI's parseArgs reads them. */
function flagsOf(args: string[]): WorkerFlags {
  assert.equal(args[0], 'worker');
  const flags: Record<string, string> = {};
  for (let i = 1; i < args.length; i += 2) {
    const name = args[i].replace(/^--/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    assert.ok(['queues', 'device', 'threads', 'metricsPort'].includes(name), `unknown flag ${args[i]}`);
    flags[name] = args[i + 1];
  }
  return flags;
}

const configOf = (w: StartedWorker): WorkerConfig => workerConfig(flagsOf(w.args), w.env);
/** The queues a worker polls (its trainer's own queue aside), for a deployment prefix of `r1-`. */
const queuesOf = (w: StartedWorker) => {
  const config = configOf(w);
  return config.roles.map((role) => taskQueue('r1-', role, config.device.kind));
};

/** The image's ENV defaults a container starts with, by build target. */
function imageEnv(target: string): Record<string, string> {
  const stage = read('infra/images/worker.Dockerfile').split(/^FROM /m).find((s) => new RegExp(`AS ${target}\\n`).test(s));
  assert.ok(stage, `the Dockerfile has a ${target} target`);
  const env: Record<string, string> = {};
  for (const block of stage.matchAll(/^ENV ((?:.*\\\n)*.*)$/gm)) {
    for (const [, k, v] of block[1].matchAll(/([A-Z_0-9]+)=(\S+)/g)) env[k] = v;
  }
  return env;
}

function composeWorkers(files: string[]): StartedWorker[] {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const file of files) {
    const services = (parseYaml(read(file), { merge: true }) as { services: Record<string, Record<string, unknown>> }).services;
    for (const [name, service] of Object.entries(services)) {
      const before = merged[name] ?? {};
      merged[name] = { ...before, ...service, environment: { ...(before.environment as object), ...(service.environment as object) } };
    }
  }
  return Object.entries(merged)
    .filter(([, s]) => (s.command as string[] | undefined)?.[0] === 'worker')
    .map(([name, s]) => {
      const image = String(s.image).replace(/^\$\{[A-Z0-9_]+:-(.*)\}$/, '$1');
      const env = { ...imageEnv(image.endsWith(':cuda') ? 'worker-cuda' : 'worker-cpu'), ...(s.environment as Record<string, string>) };
      const devices = ((s.deploy as { resources?: { reservations?: { devices?: { capabilities: string[] }[] } } } | undefined)?.resources?.reservations?.devices ?? []);
      return {
        where: `${files.join(' + ')}: ${name}`,
        args: s.command as string[],
        env,
        image,
        gpu: devices.some((d) => d.capabilities.includes('gpu')),
        graceSeconds: Number(/^(\d+)s$/.exec(String(s.stop_grace_period))?.[1] ?? 10),
        metricsPort: env.R1_METRICS_PORT ? Number(env.R1_METRICS_PORT) : undefined,
      };
    });
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value: string }[];
  envFrom?: { configMapRef?: { name: string } }[];
  ports?: { containerPort: number }[];
  resources?: { limits?: Record<string, unknown> };
}

function kubernetesWorkers(): StartedWorker[] {
  const docs = yamlFiles('infra/kubernetes').flatMap((file) => parseAllDocuments(read(file)).map((d) => ({ file, doc: d.toJS() as Record<string, any> })));
  const configMaps = new Map(docs.filter((d) => d.doc.kind === 'ConfigMap').map((d) => [d.doc.metadata.name as string, d.doc.data as Record<string, string>]));
  return docs
    .filter((d) => d.doc.kind === 'Deployment')
    .flatMap(({ file, doc }) =>
      (doc.spec.template.spec.containers as Container[]).map((c) => {
        const env = {
          ...imageEnv(c.image.endsWith(':cuda') ? 'worker-cuda' : 'worker-cpu'),
          ...Object.assign({}, ...(c.envFrom ?? []).map((e) => (e.configMapRef ? configMaps.get(e.configMapRef.name) : {}))),
          ...Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value])),
        } as Record<string, string>;
        assert.deepEqual(
          (c.ports ?? []).map((p) => p.containerPort),
          env.R1_METRICS_PORT ? [Number(env.R1_METRICS_PORT)] : [],
          `${file}: ${doc.metadata.name} exposes its metrics port`,
        );
        assert.equal(doc.spec.template.metadata.annotations?.['prometheus.io/port'], env.R1_METRICS_PORT, `${file}: ${doc.metadata.name} is scraped where it serves`);
        return {
          where: `${file}: ${doc.metadata.name}`,
          args: c.args ?? [],
          env,
          image: c.image,
          gpu: Number(c.resources?.limits?.['nvidia.com/gpu'] ?? 0) > 0,
          graceSeconds: doc.spec.template.spec.terminationGracePeriodSeconds ?? 30,
          metricsPort: env.R1_METRICS_PORT ? Number(env.R1_METRICS_PORT) : undefined,
        };
      }),
    );
}

const COMPOSE = 'infra/compose/compose.yaml';
const COMPOSE_GPU = 'infra/compose/compose.gpu.yaml';

test('every worker a deployment file starts is a valid r1 worker, with a GPU exactly when it runs on one, and time to stop', () => {
  const all = [...composeWorkers([COMPOSE]), ...composeWorkers([COMPOSE, COMPOSE_GPU]), ...kubernetesWorkers()];
  assert.ok(all.length >= 9, `found ${all.length} workers`);
  for (const w of all) {
    const config = configOf(w);
    const cuda = config.device.kind === 'cuda';
    assert.equal(w.gpu, cuda, `${w.where}: a GPU ${cuda ? 'for' : 'only for'} a CUDA worker`);
    assert.equal(w.image.endsWith(':cuda'), cuda, `${w.where}: the CUDA image for a CUDA worker`);
    // SIGTERM, then the in-flight activities' grace, then a trainer's last checkpoint upload.
    assert.ok(w.graceSeconds >= GRACE_MS / 1000 + 30, `${w.where}: ${w.graceSeconds} s to stop, the workers take up to ${GRACE_MS / 1000} s`);
    assert.ok(w.metricsPort, `${w.where}: serves metrics`);
  }
});

test('each deployment serves every queue its pipelines need', () => {
  const served = (workers: StartedWorker[]) => new Set(workers.flatMap(queuesOf));
  const cpuOnly = served(composeWorkers([COMPOSE]));
  for (const q of ['r1-orchestration', 'r1-cpu', 'r1-rollout-cpu', 'r1-train-cpu']) assert.ok(cpuOnly.has(q), `compose serves ${q}`);
  // GPU trainers with CPU rollout and verification workers: runtime.device { rollout: cpu, train: cuda }.
  const gpuTrainers = ['r1-orchestration', 'r1-cpu', taskQueue('r1-', 'rollout', { rollout: 'cpu', train: 'cuda' }), taskQueue('r1-', 'train', { rollout: 'cpu', train: 'cuda' })];
  for (const [where, workers] of [['compose + gpu', composeWorkers([COMPOSE, COMPOSE_GPU])], ['kubernetes', kubernetesWorkers()]] as const) {
    for (const q of gpuTrainers) assert.ok(served(workers).has(q), `${where} serves ${q}`);
  }
});

test('compose: Prometheus scrapes every worker service at its metrics port', () => {
  const scrape = parseYaml(read('infra/compose/prometheus.yml')) as { scrape_configs: { dns_sd_configs: { names: string[]; port: number }[] }[] };
  const targets = scrape.scrape_configs.flatMap((c) => c.dns_sd_configs);
  const workers = composeWorkers([COMPOSE]);
  assert.deepEqual(targets.flatMap((t) => t.names).sort(), workers.map((w) => w.where.split(': ')[1]).sort());
  for (const t of targets) assert.ok(workers.every((w) => w.metricsPort === t.port));
});

test('the CUDA image copies the provider libraries the engine looks for, and stops its workers gently', () => {
  const dockerfile = read('infra/images/worker.Dockerfile');
  const copied = /^COPY infra\/images\/onnxruntime-cuda\/(\S+) infra\/images\/onnxruntime-cuda\/(\S+) \.\/node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64\/$/m.exec(dockerfile);
  assert.ok(copied, 'the provider libraries go beside the binding');
  assert.deepEqual([copied[1], copied[2]].sort(), [...CUDA_PROVIDER_FILES].sort());
  assert.equal(onnxruntimeVersion(), '1.30.0', 'the provider libraries the fetch script takes are of this version');
  for (const target of ['worker-cpu', 'worker-cuda']) {
    const stage = dockerfile.split(/^FROM /m).find((s) => s.includes(`AS ${target}\n`))!;
    assert.match(stage, /^STOPSIGNAL SIGTERM$/m, target);
    // tini passes the signal on to the worker (and reaps the code sandboxes' processes).
    assert.match(stage, /^ENTRYPOINT \["\/usr\/bin\/tini", "--", "node", "\/app\/dist\/cli\/r1\.js"\]$/m, target);
  }
});

test('every file the README\'s Deploy section names exists and is validated by infra/validate.sh', () => {
  const readme = read('README.md');
  const deploy = /^## Deploy\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  assert.ok(deploy, 'the README has a Deploy section');
  const named = [...new Set([...deploy.matchAll(/(?<![\w/])infra\/[\w./-]+\w/g)].map((m) => m[0]))];
  assert.ok(named.length >= 6, named.join(', '));
  const validated = [
    ...readdirSync(join(projectRoot, 'infra/images')).filter((f) => f.endsWith('.Dockerfile')).map((f) => `infra/images/${f}`),
    ...yamlFiles('infra/compose'),
    'infra/compose/prometheus.yml',
    ...yamlFiles('infra/kubernetes'),
    // The scripts themselves: validate.sh checks the rest, the fetch script is run by the operator.
    'infra/validate.sh',
    'infra/images/fetch-onnxruntime-cuda.sh',
  ];
  const script = read('infra/validate.sh');
  for (const glob of ['infra/images/*.Dockerfile', 'infra/compose/compose.yaml', 'infra/compose/compose.*.yaml', 'infra/kubernetes/*.yaml', 'infra/compose infra/kubernetes']) {
    assert.ok(script.includes(glob), `validate.sh covers ${glob}`);
  }
  for (const path of named) {
    if (path === 'infra/images/onnxruntime-cuda') {
      assert.match(read('infra/images/fetch-onnxruntime-cuda.sh'), /^mkdir -p infra\/images\/onnxruntime-cuda$/m, 'the fetch script makes the folder the CUDA image copies from');
      continue;
    }
    assert.ok(existsSync(join(projectRoot, path)), `${path} (named in Deploy) exists`);
    assert.ok(validated.includes(path) || validated.some((v) => v.startsWith(`${path}/`)), `${path} (named in Deploy) is validated`);
  }
});
