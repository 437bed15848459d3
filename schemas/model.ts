import { z } from 'zod';

const positiveInt = z.number().int().positive();

/** Llama 3's rope scaling (HF `rope_scaling` / `rope_parameters` with rope_type "llama3"). */
export const ropeScalingSchema = z.strictObject({
  type: z.literal('llama3'),
  factor: z.number().positive(),
  lowFreqFactor: z.number().positive(),
  highFreqFactor: z.number().positive(),
  originalMaxPositionEmbeddings: positiveInt,
});
export type RopeScaling = z.infer<typeof ropeScalingSchema>;

/** The Hugging Face architectures a checkpoint can be imported from and exported to. */
export const architectureSchema = z.enum(['llama', 'mistral', 'qwen2', 'qwen3']);
export type Architecture = z.infer<typeof architectureSchema>;

/**
 * A Llama/Qwen2-style decoder. Field meanings follow Hugging Face config.json (vocab_size,
 * hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads,
 * head_dim, rope_theta, rope_scaling, rms_norm_eps, tie_word_embeddings; qkvBias is true for
 * Qwen2, qkNorm (an RMSNorm over each head of q and k) for Qwen3); engine/hf-config.ts converts.
 */
export const modelConfigSchema = z
  .strictObject({
    vocabSize: positiveInt,
    hiddenSize: positiveInt,
    intermediateSize: positiveInt,
    numLayers: positiveInt,
    numHeads: positiveInt,
    numKvHeads: positiveInt,
    /** Defaults to hiddenSize / numHeads. */
    headDim: positiveInt.optional(),
    ropeTheta: z.number().positive().default(10000),
    ropeScaling: ropeScalingSchema.optional(),
    rmsNormEps: z.number().positive().default(1e-6),
    tieEmbeddings: z.boolean().default(false),
    qkvBias: z.boolean().default(false),
    qkNorm: z.boolean().default(false),
    /** The Hugging Face architecture an imported model came from, and the one `r1 export` writes (default llama). */
    architecture: architectureSchema.optional(),
    /** The longest prompt + completion the model is used with. */
    maxSeqLen: positiveInt,
  })
  .superRefine((c, ctx) => {
    if (c.numHeads % c.numKvHeads !== 0) {
      ctx.addIssue({ code: 'custom', path: ['numKvHeads'], message: `numHeads (${c.numHeads}) must be a multiple of numKvHeads (${c.numKvHeads})` });
    }
    if (c.headDim === undefined && c.hiddenSize % c.numHeads !== 0) {
      ctx.addIssue({ code: 'custom', path: ['headDim'], message: `hiddenSize (${c.hiddenSize}) is not divisible by numHeads (${c.numHeads}); set headDim` });
    }
    if ((c.headDim ?? c.hiddenSize / c.numHeads) % 2 !== 0) {
      ctx.addIssue({ code: 'custom', path: ['headDim'], message: 'the head dim must be even for rotary embeddings' });
    }
  });
export type ModelConfig = z.infer<typeof modelConfigSchema>;
