/**
 * `r1 import SRC [--name NAME]` and `r1 export CHECKPOINT DIR [--dtype bf16|f16|f32]`. Import
 * prints the checkpoint's manifest URI as its last line of stdout, for a spec's
 * `model: { checkpoint: ... }` or a distillation student. Exit codes: 0 done, 1 the model could
 * not be imported or exported (the message names file and field), 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { ArtifactStore } from '../storage/artifact-store';
import { EXPORT_DTYPES, exportModel, type ExportDtype } from './export-model';
import { importModel } from './import-model';

const USAGE = {
  import: 'usage: r1 import <hf-folder | s3://prefix | model.gguf> [--name NAME]',
  export: `usage: r1 export <s3://.../manifest.json> <dir | s3://prefix> [--dtype ${Object.keys(EXPORT_DTYPES).join('|')}]`,
};

export async function runModelCommand(command: 'import' | 'export', args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { name: { type: 'string' }, dtype: { type: 'string' } } });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE[command]}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const log = (line: string) => console.error(line);
  const store = ArtifactStore.fromEnv();
  if (command === 'import') {
    if (positionals.length !== 1 || values.dtype !== undefined) {
      console.error(USAGE.import);
      return 2;
    }
    await store.ensureBucket();
    const began = Date.now();
    const ref = await importModel(store, positionals[0], { name: values.name, log });
    log(`imported in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    console.log(ref.uri);
    return 0;
  }
  const dtype = values.dtype ?? 'bf16';
  if (positionals.length !== 2 || values.name !== undefined || !(dtype in EXPORT_DTYPES)) {
    console.error(USAGE.export);
    return 2;
  }
  const files = await exportModel(store, positionals[0], positionals[1], { dtype: dtype as ExportDtype, log });
  console.log(`wrote ${files.length} files to ${positionals[1]}: ${files.join(', ')}`);
  return 0;
}
