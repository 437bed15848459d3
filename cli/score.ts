/**
 * `r1 score <in.jsonl> [--rewards <spec.json|spec.yaml|preset>] [-o out.jsonl] [--concurrency N]`
 *
 * Scores each line {"response", "gold"?, "tests"?, "completionTokens"?, "truncated"?} and writes it
 * back with `reward`, `mask`, `breakdown` and `reasons` (one "name: reason" per reward), to the
 * output file or stdout. A malformed line is reported on stderr by number and skipped. A summary
 * (count, mean reward, mean of each reward, e.g. accuracy) ends on stderr.
 * Exit codes: 0 all lines scored, 1 some lines skipped, 2 bad usage, unreadable file or invalid spec.
 */
import { createReadStream, createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { REWARD_PRESETS, RewardSpecSchema, ScoreSampleSchema, type RewardPresetName, type RewardSpec, type ScoreSample } from '../schemas/rewards';
import { scoreBatch } from '../rewards/compose';

interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

const USAGE = `usage: r1 score <in.jsonl> [--rewards <spec.json|spec.yaml|${Object.keys(REWARD_PRESETS).join('|')}>] [-o out.jsonl] [--concurrency N]\n`;
// Lines scored together: bounds memory on large files while keeping the sandboxes busy.
const CHUNK_LINES = 256;

function loadSpec(nameOrPath: string): RewardSpec {
  const preset = REWARD_PRESETS[nameOrPath as RewardPresetName];
  if (preset) return RewardSpecSchema.parse(preset);
  let text: string;
  try {
    text = readFileSync(nameOrPath, 'utf8');
  } catch (error) {
    throw new Error(`--rewards ${nameOrPath}: not a preset and not a readable file (${(error as Error).message})`);
  }
  const data: unknown = /\.ya?ml$/i.test(nameOrPath) ? parseYaml(text) : JSON.parse(text);
  const parsed = RewardSpecSchema.safeParse(data);
  if (!parsed.success) throw new Error(`invalid reward spec ${nameOrPath}:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function parseLine(line: string): ScoreSample {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch (error) {
    throw new Error(`invalid JSON (${(error as Error).message})`);
  }
  const parsed = ScoreSampleSchema.safeParse(data);
  if (!parsed.success) throw new Error(z.prettifyError(parsed.error).replace(/\n/g, ' '));
  return Object.assign({}, data, parsed.data); // the line's own key order, written back as it came
}

export async function runScore(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let input: string;
  let spec: RewardSpec;
  let out: WriteStream | undefined;
  let concurrency: number;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        rewards: { type: 'string', default: 'r1-math' },
        output: { type: 'string', short: 'o' },
        concurrency: { type: 'string', default: '8' },
      },
    });
    if (positionals.length !== 1) throw new Error('expected exactly one input file');
    [input] = positionals;
    concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('--concurrency must be a positive integer');
    spec = loadSpec(values.rewards);
    if (values.output) {
      out = createWriteStream(values.output);
      await once(out, 'open');
      // A later write error surfaces through finished() below, not as an uncaught 'error' event.
      out.on('error', () => {});
    }
  } catch (error) {
    io.stderr.write(`r1 score: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }

  const write = (text: string) => (out ? out.write(text) : io.stdout.write(text));
  const totals = { count: 0, skipped: 0, reward: 0, byName: Object.fromEntries(spec.map((e) => [e.name, 0])) };

  const scoreChunk = async (chunk: ScoreSample[]) => {
    const scores = await scoreBatch(chunk, spec, { concurrency });
    chunk.forEach((sample, i) => {
      const { reward, mask, breakdown } = scores[i];
      const reasons = Object.entries(breakdown).map(([name, b]) => `${name}: ${b.reason}`);
      write(JSON.stringify({ ...sample, reward, mask, breakdown, reasons }) + '\n');
      totals.count++;
      totals.reward += reward;
      for (const [name, b] of Object.entries(breakdown)) totals.byName[name] += b.value;
    });
  };

  try {
    const lines = createInterface({ input: createReadStream(input), crlfDelay: Infinity });
    let lineNumber = 0;
    let chunk: ScoreSample[] = [];
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      try {
        chunk.push(parseLine(line));
      } catch (error) {
        totals.skipped++;
        io.stderr.write(`r1 score: ${input}:${lineNumber}: skipped: ${(error as Error).message}\n`);
        continue;
      }
      if (chunk.length === CHUNK_LINES) {
        await scoreChunk(chunk);
        chunk = [];
      }
    }
    await scoreChunk(chunk);
    if (out) await finished(out.end());
  } catch (error) {
    out?.destroy();
    io.stderr.write(`r1 score: ${(error as Error).message}\n`);
    return 2;
  }

  const mean = (sum: number) => (totals.count ? (sum / totals.count).toFixed(3) : 'n/a');
  const perReward = Object.entries(totals.byName).map(([name, sum]) => `${name} ${mean(sum)}`);
  io.stderr.write(`r1 score: ${totals.count} scored, ${totals.skipped} skipped; mean reward ${mean(totals.reward)}; ${perReward.join(', ')}\n`);
  return totals.skipped ? 1 : 0;
}
