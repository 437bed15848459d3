import type { EngineEnvironment, ProducerEnvironment } from './manifest';

/**
 * A checkpoint's producer environment (schemas/manifest.ts) as one line of text, for `r1 history`,
 * `r1 report`, `r1 verify`, the demo and the pipeline's UI details. Free of zod, so that workflow
 * code can use it.
 */

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** The hardware and engine build: `AMD EPYC, 2 cores, AVX-512F · onnxruntime 1.30.0 cpu, 1 intra-op thread`. */
export function describeMachine(engine: EngineEnvironment): string {
  const cpu = `${engine.cpu.model}, ${plural(engine.cpu.cores, 'core')}, ${engine.cpu.isa}`;
  if (engine.gpu) {
    const { name, deviceId, driver, cuda } = engine.gpu;
    return `${name} (GPU ${deviceId}, driver ${driver}, CUDA ${cuda}) on ${cpu} · onnxruntime ${engine.onnxruntime} cuda`;
  }
  const threads = engine.intraOpThreads === null ? "onnxruntime's default intra-op threads" : plural(engine.intraOpThreads, 'intra-op thread');
  return `${cpu} · onnxruntime ${engine.onnxruntime} ${engine.executionProvider}, ${threads}`;
}

/** Everything recorded, in one line: code, Node, machine and engine, spec hash. */
export function describeEnvironment(env: ProducerEnvironment): string {
  const { version, commit, modified } = env.product;
  const code = `r1-pipeline ${version} @ ${commit ? `${commit.slice(0, 12)}${modified ? ' (modified)' : ''}` : 'unknown commit'}`;
  const engine = env.engine ? describeMachine(env.engine) : 'no engine (new weights from the seed)';
  return `${code} · Node ${env.node} · ${engine} · spec ${env.specHash?.slice(0, 12) ?? 'unknown'}`;
}
