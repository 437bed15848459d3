import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { GrpoConfigSchema } from '../schemas/grpo';
import { PipelineSpecSchema, type PipelineSpec } from '../schemas/pipeline-spec';
import { RuntimeSchema } from '../schemas/runtime';
import { SamplingSchema } from '../schemas/sampling';
import type { SpecHashes } from '../workflows/pipeline';

/** A spec that cannot run, with every problem found (not just the first), each with its path. */
export class SpecError extends Error {
  override readonly name = 'SpecError';
  constructor(
    readonly source: string,
    readonly problems: { path: string; message: string }[],
  ) {
    super(`${source} is not a valid pipeline spec:\n${problems.map((p) => `  - ${p.path || '(root)'}: ${p.message}`).join('\n')}`);
  }
}

/** Where a field of the spec's earlier, flat layout lives now (runtime, sampling and GRPO settings are nested). */
function movedTo(path: readonly PropertyKey[], key: string): string | undefined {
  if (path.length === 0) return key === 'compute' ? 'runtime.device' : key in RuntimeSchema.shape ? `runtime.${key}` : undefined;
  if (key in SamplingSchema.shape) return `sampling.${key}`;
  if (key in GrpoConfigSchema.shape) return `grpo.${key}`;
  return undefined;
}

/** Fields of earlier layouts that are gone, and why. */
const GONE: Record<string, string> = {
  'runtime.tokenizer': "tokenizer is gone: the model's checkpoint carries its tokenizer (r1 import); a model made from a config uses the byte tokenizer",
};

function messageOf(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'unrecognized_keys') return issue.message;
  const moved = issue.keys.flatMap((key) => {
    const gone = GONE[[...issue.path, key].join('.')];
    if (gone) return [gone];
    const to = movedTo(issue.path, key);
    return to ? [`${key} is now ${to}`] : [];
  });
  return moved.length ? `${issue.message} (${moved.join('; ')})` : issue.message;
}

/** Validates a parsed spec object; throws SpecError listing every problem. */
export function validateSpec(value: unknown, source = 'spec'): PipelineSpec {
  const result = PipelineSpecSchema.safeParse(value);
  if (!result.success) {
    throw new SpecError(
      source,
      result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: messageOf(issue) })),
    );
  }
  return result.data;
}

/** Reads a YAML or JSON spec file (JSON is YAML, so one parser serves both). */
export function loadSpecFile(path: string): PipelineSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SpecError(path, [{ path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new SpecError(path, [{ path: '', message: `not YAML or JSON: ${(err as Error).message}` }]);
  }
  return validateSpec(value, path);
}

/** SHA-256 of validated settings as JSON: their fields in the schema's order, defaults filled in. */
const hashOf = (settings: unknown) => createHash('sha256').update(JSON.stringify(settings)).digest('hex');

/** Stable hash of the validated spec, kept in the pipeline's memo for audit. */
export function specHash(spec: PipelineSpec): string {
  return hashOf(spec);
}

/**
 * The hash each checkpoint's manifest records as its spec: of a phase's resolved settings (its
 * entry with defaults filled in, and the seed and runtime it runs under), or of the starting model's.
 */
export function specHashes(spec: PipelineSpec): SpecHashes {
  return {
    model: hashOf({ model: spec.model }),
    phases: spec.phases.map((phase) => hashOf({ phase, seed: spec.seed, runtime: spec.runtime })),
  };
}
