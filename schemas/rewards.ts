import { z } from 'zod';

/** Where the accuracy reward looks for the final answer (mirrors rewards/extract.ts). */
export const AnswerSourceSchema = z.enum(['answer-tag', 'boxed', 'prose']);

/** Target languages of the language-consistency reward: en/fr/de/es identified per sentence, the others by their script (rewards/language.ts). */
export const TargetLanguageSchema = z.enum(['en', 'fr', 'de', 'es', 'ru', 'zh', 'ja', 'ko', 'ar']);
export type TargetLanguage = z.infer<typeof TargetLanguageSchema>;

export const CodeLanguageSchema = z.enum(['python', 'javascript']);
export type CodeLanguage = z.infer<typeof CodeLanguageSchema>;

/** One code test: the program reads `input` on stdin and must print `output` (compared line by line, trailing whitespace ignored). */
export const CodeTestSchema = z.object({ input: z.string(), output: z.string() });
export type CodeTest = z.infer<typeof CodeTestSchema>;

/** Limits for one sandboxed program run (one test case). */
export const SandboxLimitsSchema = z.object({
  wallMs: z.number().int().positive().default(5000),
  cpuSeconds: z.number().int().positive().default(2),
  memoryMb: z.number().int().positive().default(512),
  processes: z.number().int().positive().default(32),
  outputKb: z.number().int().positive().default(1024),
  /** Size of the program's private writable directory (/sandbox, also reachable as /tmp). */
  diskMb: z.number().int().positive().default(16),
});
export type SandboxLimits = z.infer<typeof SandboxLimitsSchema>;

const RewardBase = z.object({
  weight: z.number().finite().default(1),
  /** Deadline for this reward on one sample; past it the reward scores 0 (see rewards/compose.ts). */
  timeoutMs: z.number().int().positive().optional(),
});

export const RewardEntrySchema = z.discriminatedUnion('name', [
  RewardBase.extend({
    name: z.literal('accuracy'),
    sources: z.array(AnswerSourceSchema).min(1).optional(),
    relTol: z.number().nonnegative().optional(),
    absTol: z.number().nonnegative().optional(),
  }),
  RewardBase.extend({ name: z.literal('format') }),
  RewardBase.extend({ name: z.literal('language'), language: TargetLanguageSchema }),
  RewardBase.extend({
    name: z.literal('overlong'),
    maxTokens: z.number().int().positive(),
    buffer: z.number().int().positive(),
    /** Ask the trainer to leave truncated completions out of the loss (DAPO "overlong filtering"). */
    maskTruncated: z.boolean().default(false),
  }).refine((e) => e.buffer <= e.maxTokens, { message: 'buffer must not exceed maxTokens', path: ['buffer'] }),
  RewardBase.extend({
    name: z.literal('code'),
    language: CodeLanguageSchema.default('python'),
    limits: SandboxLimitsSchema.default(SandboxLimitsSchema.parse({})),
    /** Sandboxes running at once for all code rewards with this setting; default: the number of CPUs. */
    concurrency: z.number().int().positive().optional(),
  }),
]);
export type RewardEntry = z.infer<typeof RewardEntrySchema>;
export type RewardName = RewardEntry['name'];

/** The rewards of a run: a weighted sum; names are unique because they key the breakdown. */
export const RewardSpecSchema = z
  .array(RewardEntrySchema)
  .min(1)
  .refine((entries) => new Set(entries.map((e) => e.name)).size === entries.length, {
    message: 'each reward name may appear once',
  });
export type RewardSpec = z.infer<typeof RewardSpecSchema>;
export type RewardSpecInput = z.input<typeof RewardSpecSchema>;

/** Named specs, as data; parse one with RewardSpecSchema to get defaults filled in. */
export const REWARD_PRESETS = {
  'r1-math': [
    { name: 'accuracy', weight: 1 },
    { name: 'format', weight: 0.5 },
  ],
  'r1-math-lang': [
    { name: 'accuracy', weight: 1 },
    { name: 'format', weight: 0.5 },
    { name: 'language', weight: 0.1, language: 'en' },
  ],
  'dapo-math': [
    { name: 'accuracy', weight: 1 },
    { name: 'overlong', weight: 1, maxTokens: 20480, buffer: 4096 },
  ],
  code: [
    { name: 'code', weight: 1, language: 'python' },
    { name: 'format', weight: 0.5 },
  ],
} satisfies Record<string, RewardSpecInput>;
export type RewardPresetName = keyof typeof REWARD_PRESETS;

/** One line to score: a model response plus what its rewards need. Unknown fields are kept. */
export const ScoreSampleSchema = z.looseObject({
  response: z.string(),
  gold: z.string().optional(),
  tests: z.array(CodeTestSchema).optional(),
  completionTokens: z.number().int().nonnegative().optional(),
  truncated: z.boolean().optional(),
});
export type ScoreSample = z.infer<typeof ScoreSampleSchema>;

export const RewardScoreSchema = z.object({ value: z.number(), weight: z.number(), reason: z.string() });
export type RewardScore = z.infer<typeof RewardScoreSchema>;

/** A scored sample as stored in rewards/step-N.jsonl. `mask: true` = leave this sample out of the loss. */
export const SampleScoreSchema = z.object({
  reward: z.number(),
  breakdown: z.record(z.string(), RewardScoreSchema),
  mask: z.boolean(),
});
export type SampleScore = z.infer<typeof SampleScoreSchema>;

/** How right a scored sample is, 0 to 1: its accuracy reward, else its code reward (the share of tests passed). */
export function correctnessOf(score: SampleScore): number {
  return (score.breakdown.accuracy ?? score.breakdown.code)?.value ?? 0;
}
