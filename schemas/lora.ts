import { z } from 'zod';

/**
 * The linear layers LoRA can adapt, by their Hugging Face module names. Every architecture the
 * engine runs (llama, mistral, qwen2, qwen3; schemas/model.ts) names its projections so.
 */
export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/**
 * LoRA (Hu et al. 2021) as PEFT applies it: each target's frozen weight W [out, in] gains
 * (alpha / rank) B A, with A [rank, in] and B [out, rank] the only trained parameters.
 */
export const LoraSchema = z.strictObject({
  rank: z.number().int().positive(),
  /** The update's scale is alpha / rank (PEFT's lora_alpha). */
  alpha: z.number().positive(),
  targets: z
    .array(z.enum(LORA_TARGETS, { error: (issue) => `unknown target ${JSON.stringify(issue.input)}: the llama, mistral, qwen2 and qwen3 architectures have ${LORA_TARGETS.join(', ')}` }))
    .min(1, 'name at least one layer to adapt')
    .refine((targets) => new Set(targets).size === targets.length, 'a target is named twice'),
});
export type Lora = z.infer<typeof LoraSchema>;
