/**
 * Code-execution reward: the share of test cases a generated program passes in the sandbox.
 *
 * The program is the last fenced code block (```python / ```js ... ```, or an untagged fence) in
 * the visible part of the response (outside the chain of thought, as extract.ts defines it).
 * A test is stdin -> expected stdout: the program passes when it exits 0 and its output equals
 * the expected one line by line, ignoring trailing spaces, CR/LF differences and trailing blank
 * lines. Tests run in parallel, with at most `concurrency` sandboxes at once across all code
 * rewards that share that setting. An aborted `signal` (the reward's deadline) kills the running
 * sandboxes and starts no more.
 */
import { availableParallelism, constants } from 'node:os';
import type { CodeLanguage, CodeTest, SandboxLimits } from '../schemas/rewards';
import { visiblePart } from './extract';
import { createLimit } from './limit';
import { runInSandbox, type SandboxResult } from './sandbox';

const FENCE_TAGS: Record<CodeLanguage, string[]> = {
  python: ['python', 'py', 'python3', ''],
  javascript: ['javascript', 'js', 'node', ''],
};
// The rest of the fence line must start with a character the tag cannot hold: were both allowed
// to take word characters, three backticks and a long line would match in quadratic time.
const FENCE = /```([\w+-]*)(?:[^\w+\-\n`][^\n`]*)?\n([\s\S]*?)```/g;

/** The program to run, or null when the response holds no code block in this language. */
export function extractProgram(response: string, language: CodeLanguage): string | null {
  let program: string | null = null;
  for (const [, tag, body] of visiblePart(response).matchAll(FENCE)) {
    if (FENCE_TAGS[language].includes(tag.toLowerCase())) program = body;
  }
  return program;
}

function normalizeOutput(text: string): string {
  return text.replace(/\r\n?/g, '\n').split('\n').map((line) => line.trimEnd()).join('\n').replace(/\n+$/, '');
}

function verdict(run: SandboxResult, expected: string): string | null {
  if (run.outcome === 'timeout') return 'wall time exceeded';
  if (run.outcome === 'output-limit') return 'output limit exceeded';
  if (run.signal) return `sandbox killed by ${run.signal}`;
  if (run.exitCode !== null && run.exitCode > 128) {
    const signal = Object.entries(constants.signals).find(([, n]) => n === run.exitCode! - 128)?.[0] ?? `signal ${run.exitCode - 128}`;
    return `killed by ${signal}${signal === 'SIGKILL' || signal === 'SIGXCPU' ? ' (CPU time limit)' : ''}`;
  }
  if (run.exitCode !== 0) return `exit ${run.exitCode}: ${run.stderr.trim().split('\n').pop()}`;
  if (normalizeOutput(run.stdout) !== normalizeOutput(expected)) return 'wrong output';
  return null;
}

const slotsByConcurrency = new Map<number, ReturnType<typeof createLimit>>();
function sandboxSlots(concurrency: number) {
  if (!slotsByConcurrency.has(concurrency)) slotsByConcurrency.set(concurrency, createLimit(concurrency));
  return slotsByConcurrency.get(concurrency)!;
}

export async function codeReward(
  response: string,
  tests: CodeTest[],
  options: { language: CodeLanguage; limits: SandboxLimits; concurrency?: number; signal?: AbortSignal },
): Promise<{ value: number; reason: string }> {
  if (tests.length === 0) throw new Error('sample has no tests');
  const program = extractProgram(response, options.language);
  if (program === null) return { value: 0, reason: `no ${options.language} code block` };
  const slot = sandboxSlots(options.concurrency ?? availableParallelism());
  const failures = await Promise.all(
    tests.map((test) => slot(() => runInSandbox(options.language, program, test.input, options.limits, options.signal)).then((run) => verdict(run, test.output))),
  );
  const passed = failures.filter((f) => f === null).length;
  const firstFailure = failures.findIndex((f) => f !== null);
  return {
    value: passed / tests.length,
    reason: `${passed}/${tests.length} tests passed` + (firstFailure >= 0 ? `; test ${firstFailure + 1}: ${failures[firstFailure]}` : ''),
  };
}
