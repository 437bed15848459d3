import { z } from 'zod';

/** How a prompt is wrapped before the model sees it; the texts are in engine/chat-template.ts. */
export const chatTemplateNameSchema = z.enum(['plain', 'r1']);
export type ChatTemplateName = z.infer<typeof chatTemplateNameSchema>;
