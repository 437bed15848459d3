import { z } from 'zod';
import { chatTemplateNameSchema } from './chat-template';
import { deviceNeedSchema } from './device';

/**
 * How a trainer trades time for memory. Neither setting changes what a step computes (beyond
 * float rounding), only how much it holds at once, so they live with the hardware settings and
 * not with the algorithm's (schemas/grpo.ts, optimizer.ts).
 */
export const MemorySchema = z.strictObject({
  /**
   * Sequences per forward and backward pass. A larger batch (an SFT batch, a GRPO mini-batch) is
   * split into micro-batches whose gradients add up to the whole batch's before one optimizer
   * update. Unset: the whole batch in one pass.
   */
  microBatchSize: z.number().int().positive().optional(),
  /**
   * What the backward pass computes again instead of keeping it from the forward pass. `none`:
   * nothing. `attention`: each layer's attention probabilities, [B, heads, T, T], the one
   * activation that grows with T² (as FlashAttention and PyTorch's scaled_dot_product_attention
   * do), for one more q·kᵀ product and softmax per layer: SmolLM2 at 8 x 512 holds 1.4 GB less,
   * a few percent slower at short T. `layers`: all but each decoder layer's input (gradient
   * checkpointing), for about one more forward pass per step.
   */
  recompute: z.enum(['none', 'attention', 'layers']).default('none'),
});
export type Memory = z.infer<typeof MemorySchema>;

/**
 * How a pipeline's engines read and write text, and where they run: the spec's `runtime`. The
 * tokenizer is not a setting: it is the model's own, carried by its checkpoint (`r1 import`
 * puts it there); a model made from a config uses the byte-level tokenizer.
 */
export const RuntimeSchema = z
  .strictObject({
    chatTemplate: chatTemplateNameSchema.default('auto'),
    /** The system message of a model's own chat template (its template's default when absent). */
    systemPrompt: z.string().optional(),
    /**
     * Opens the think block at the end of the prompt (`<think>\n`, as R1-Distill's template
     * does): completions start inside it, and R1-style outputs end it with `</think>`.
     */
    thinkPrefill: z.boolean().default(false),
    /** The hardware its rollouts and training need; which GPU and how many threads is each worker's own setting. */
    device: deviceNeedSchema.default('cpu'),
    memory: MemorySchema.default({ recompute: 'none' }),
  })
  .superRefine((r, ctx) => {
    if (r.systemPrompt !== undefined && (r.chatTemplate === 'r1' || r.chatTemplate === 'plain')) {
      ctx.addIssue({ code: 'custom', path: ['systemPrompt'], message: `the ${r.chatTemplate} template has no system message; use chatTemplate model` });
    }
  });
export type Runtime = z.infer<typeof RuntimeSchema>;
/** The chat settings of a runtime: what turns a prompt into the model's input text. */
export type ChatSettings = Pick<Runtime, 'chatTemplate' | 'systemPrompt' | 'thinkPrefill'>;

/**
 * What every engine of a phase is started with, travelling whole from the workflow to the engine:
 * the spec's runtime and the phase's seed, which orders its data and seeds its random generator.
 */
export interface PolicyRuntime extends Runtime {
  seed: number;
}
