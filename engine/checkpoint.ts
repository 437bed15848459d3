import { trainerStateFileSchema, type TrainerStateFile } from '../schemas/trainer-state';
import type { RngState } from './rng';
import { checkShapes, readSafetensors, writeSafetensors } from './safetensors';
import type { NamedTensors } from './tensors';

/** Everything a trainer needs to continue exactly where it stopped. */
export interface TrainerState {
  config: unknown;
  weights: NamedTensors;
  /** AdamW moments, one pair per parameter under the parameter's name, and the step count. */
  optimizer?: { m: NamedTensors; v: NamedTensors; step: number };
  rng?: RngState;
  extra?: Record<string, unknown>;
}

/**
 * The checkpoint files of a trainer state:
 * - model.safetensors: the weights, f32, Hugging Face names (loadable by other tools);
 * - optimizer.safetensors (only with an optimizer): `m.<param>` and `v.<param>`, f32;
 * - state.json: config, optimizer step, RNG state, extra (schemas/trainer-state.ts).
 * Everything stays f32 so a resumed run continues bit for bit.
 */
export function encodeTrainerState(s: TrainerState): Record<string, Buffer> {
  const state: TrainerStateFile = {
    format: 'r1-trainer-state/1',
    config: s.config,
    ...(s.optimizer && { optimizerStep: s.optimizer.step }),
    ...(s.rng && { rng: s.rng }),
    ...(s.extra && { extra: s.extra }),
  };
  const files: Record<string, Buffer> = {
    'model.safetensors': writeSafetensors(s.weights),
    'state.json': Buffer.from(JSON.stringify(trainerStateFileSchema.parse(state), null, 2) + '\n'),
  };
  if (s.optimizer) {
    files['optimizer.safetensors'] = writeSafetensors({ ...prefixed('m.', s.optimizer.m), ...prefixed('v.', s.optimizer.v) });
  }
  return files;
}

/**
 * Reads files written by encodeTrainerState and refuses any tensor set that does not match the
 * model's parameter shapes. `expectedShapes` may be a function of the stored config, since on
 * resume the config is only known once state.json has been read.
 */
export function decodeTrainerState(
  files: Record<string, Uint8Array>,
  expectedShapes: Record<string, number[]> | ((config: unknown) => Record<string, number[]>),
): TrainerState {
  const stateBytes = need(files, 'state.json');
  let state: TrainerStateFile;
  try {
    state = trainerStateFileSchema.parse(JSON.parse(Buffer.from(stateBytes).toString('utf8')));
  } catch (err) {
    throw new Error(`state.json: not a valid trainer state: ${(err as Error).message}`, { cause: err });
  }
  const shapes = typeof expectedShapes === 'function' ? expectedShapes(state.config) : expectedShapes;

  const weights = readSafetensors(need(files, 'model.safetensors'), 'model.safetensors');
  checkShapes(weights, shapes, 'model.safetensors');

  const out: TrainerState = { config: state.config, weights };
  const optimizerBytes = files['optimizer.safetensors'];
  if ((optimizerBytes === undefined) !== (state.optimizerStep === undefined)) {
    throw new Error('state.json and optimizer.safetensors disagree: optimizerStep and the optimizer file must come together');
  }
  if (optimizerBytes !== undefined && state.optimizerStep !== undefined) {
    const moments = readSafetensors(optimizerBytes, 'optimizer.safetensors');
    checkShapes(moments, { ...prefixed('m.', shapes), ...prefixed('v.', shapes) }, 'optimizer.safetensors');
    out.optimizer = { m: unprefixed('m.', moments), v: unprefixed('v.', moments), step: state.optimizerStep };
  }
  if (state.rng) out.rng = state.rng;
  if (state.extra) out.extra = state.extra;
  return out;
}

function need(files: Record<string, Uint8Array>, name: string): Uint8Array {
  const f = files[name];
  if (f === undefined) throw new Error(`trainer checkpoint has no ${name} (files: ${Object.keys(files).join(', ') || 'none'})`);
  return f;
}

function prefixed<T>(prefix: string, record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [prefix + k, v]));
}

function unprefixed<T>(prefix: string, record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}
