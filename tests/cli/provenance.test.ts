import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ensureStack } from '../helpers/stack';
import { testClient, withWorkers } from '../helpers/workers';
import { r1 } from '../helpers/cli';
import { terminateIfRunning } from '../helpers/pipelines';
import { PHASES, tinySpec } from '../fixtures/tiny-pipeline';
import { startPipeline } from '../../cli/pipelines';
import type { PipelineAudit } from '../../cli/history';
import { projectRoot } from '../../infra/local/paths';
import { keys } from '../../schemas/layout';
import type { CheckpointManifest } from '../../schemas/manifest';
import { ArtifactStore } from '../../storage/artifact-store';
import { readManifest } from '../../storage/checkpoints';

const spec = tinySpec([PHASES.pretrain, PHASES.grpo]);
/** A worker with two intra-op threads: every checkpoint of this run must say it cannot be repeated bit for bit. */
const TWO_THREADS = { kind: 'cpu' as const, threads: 2 };

const sha256 = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/** Every manifest under the pipeline's checkpoints, by key. */
async function manifests(store: ArtifactStore, id: string): Promise<Map<string, CheckpointManifest>> {
  const found = new Map<string, CheckpointManifest>();
  for await (const { key } of store.list(store.key(keys.checkpoints(id)))) {
    if (key.endsWith('/manifest.json')) found.set(key, await readManifest(store, { uri: store.uri(key) }));
  }
  return found;
}

before(async () => {
  await ensureStack();
});

test('checkpoints record what produced them; r1 history and the UI details show it; r1 verify checks the lineage and names a tampered file', async (t) => {
  const client = await testClient();
  const store = ArtifactStore.fromEnv();
  const id = `provenance-${randomUUID().slice(0, 8)}`;
  await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => {
    const handle = await startPipeline(client, spec, id);
    t.after(() => terminateIfRunning(handle));
    await handle.result();
    // The UI's current details, asked of a running worker as the UI does.
    const { currentDetails } = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    assert.match(currentDetails ?? '', /latest checkpoint made by r1-pipeline \S+ @ .* · onnxruntime [\d.]+ cpu, 2 intra-op threads · spec [0-9a-f]{12}/);
    assert.match(currentDetails ?? '', /\*\*not bit-reproducible\*\*: `0-pretrain`: 2 intra-op threads add their partial sums in a varying order/);
  }, TWO_THREADS);

  const all = await manifests(store, id);
  const version = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const onnxruntime = (require('onnxruntime-node/package.json') as { version: string }).version;
  const phaseHashes = spec.phases.map((phase) => sha256({ phase, seed: spec.seed, runtime: spec.runtime }));
  const hashOfPhase: Record<string, string> = { init: sha256({ model: spec.model }), '0-pretrain': phaseHashes[0], '1-grpo': phaseHashes[1], '1-grpo.policy': phaseHashes[1] };
  assert.deepEqual(new Set([...all.values()].map((m) => m.phase)), new Set(Object.keys(hashOfPhase)));

  await t.test('every manifest records the environment that made it', () => {
    for (const [key, m] of all) {
      const env = m.environment;
      assert.ok(env, `${key} records an environment`);
      assert.equal(env.product.version, version);
      assert.match(env.product.commit ?? '', /^[0-9a-f]{40}$/, 'this checkout is a git repository');
      assert.equal(env.node, process.version);
      assert.equal(env.specHash, hashOfPhase[m.phase], `${key}: spec hash of its phase`);
      if (m.phase === 'init') {
        assert.equal(env.engine, null, 'new random weights: no engine took part');
        assert.deepEqual(env.warnings, []);
        continue;
      }
      assert.equal(env.engine?.onnxruntime, onnxruntime);
      assert.equal(env.engine?.executionProvider, 'cpu');
      assert.equal(env.engine?.intraOpThreads, 2);
      assert.equal(env.engine?.cpu.model, cpus()[0].model.trim());
      const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(/\s+/) ?? [];
      if (flags.includes('avx512f')) assert.equal(env.engine?.cpu.isa, 'AVX-512F');
      else assert.match(env.engine?.cpu.isa ?? '', /^(AVX2\+FMA3|AVX|SSE2|NEON)$/);
      assert.equal(env.engine?.gpu, null);
      assert.equal(env.warnings.length, 1);
      assert.match(env.warnings[0], /^2 intra-op threads/);
    }
  });

  await t.test('r1 history shows the same environment for each checkpoint, and the warning', async () => {
    const json = await r1('history', id, '--json');
    assert.equal(json.code, 0, json.stderr);
    const audit = JSON.parse(json.stdout) as PipelineAudit;
    let compared = 0;
    for (const phase of audit.phases) {
      for (const a of phase.executions.flatMap((x) => x.activities).filter((a) => a.checkpoint)) {
        assert.deepEqual(a.environment, all.get(store.keyOf(a.checkpoint!.uri))?.environment, `${a.checkpoint!.uri}`);
        compared += 1;
      }
      assert.equal(phase.producers.length, 1, `${phase.name}: one producer environment`);
    }
    assert.equal(compared, 4, 'pretrain checkpoints at steps 2 and 4, GRPO checkpoints at steps 2 and 3');

    const text = await r1('history', id);
    assert.equal(text.code, 0, text.stderr);
    const line = new RegExp(`\\n  made by r1-pipeline ${version} @ [0-9a-f]{12}.* · Node ${process.version} · ${cpus()[0].model.trim()}, \\d+ cores?, \\S+ · onnxruntime ${onnxruntime} cpu, 2 intra-op threads · spec ${phaseHashes[0].slice(0, 12)}  \\(checkpoints at steps 2, 4\\)\\n  ! not bit-reproducible: 2 intra-op threads`);
    assert.match(text.stdout, line);
  });

  await t.test('r1 verify passes on the finished pipeline and on one manifest', async () => {
    const verified = await r1('verify', id);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, new RegExp(`^${id}: lineage verified: ${all.size} checkpoints, `));
    const last = [...all.keys()].filter((k) => k.includes('/1-grpo/')).sort().at(-1)!;
    const one = await r1('verify', store.uri(last));
    assert.equal(one.code, 0, one.stderr);
    // The last GRPO checkpoint, its parent and the pretraining lineage below: init, steps 2 and 4.
    assert.match(one.stdout, /lineage verified: 5 checkpoints, /);
  });

  await t.test('r1 verify fails naming a checkpoint file altered in S3', async () => {
    const pretrain = [...all.entries()].find(([key]) => key.includes('/0-pretrain/') && key.includes('step-00000002'))![1];
    const file = pretrain.files[0];
    const bytes = await store.getBytes({ uri: store.uri(file.key), sha256: file.sha256 });
    bytes[bytes.length - 1] ^= 1; // one bit, same size: only the hash can tell
    await store.putBytes(file.key, bytes);
    const failed = await r1('verify', id);
    assert.equal(failed.code, 1);
    assert.equal(failed.stdout, '');
    assert.match(failed.stderr, new RegExp(`^r1 verify: ${store.uri(file.key).replace(/[.]/g, '\\.')}: SHA-256 [0-9a-f]{64} differs from ${file.sha256} recorded by s3://\\S+/0-pretrain/step-00000002/manifest\\.json\\n$`));
  });
});
