import { z } from 'zod';

/**
 * How a prompt is wrapped before the model sees it: `model`, the model's own chat template (the
 * Jinja template its checkpoint carries); `r1`, DeepSeek-R1-Zero's training template; `plain`,
 * the prompt as it is; `auto`, the model's own when its checkpoint has one, else `r1` (the
 * demo's byte-level models have none). The texts and rendering are in engine/chat-template.ts.
 */
export const chatTemplateNameSchema = z.enum(['auto', 'model', 'r1', 'plain']);
export type ChatTemplateName = z.infer<typeof chatTemplateNameSchema>;
