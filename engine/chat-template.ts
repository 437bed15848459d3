/**
 * Prompt -> the text the model sees, by the runtime's chat settings (schemas/runtime.ts): the
 * model's own Jinja chat template (rendered with @huggingface/jinja, as transformers.js does,
 * with the system prompt and add_generation_prompt), DeepSeek-R1-Zero's template, or the prompt
 * as it is; then, with `thinkPrefill`, the opened think block.
 */
import { Template } from '@huggingface/jinja';
import type { ChatSettings } from '../schemas/runtime';
import { tokenText } from './tokenizer';

// DeepSeek-R1-Zero's training template (DeepSeek-R1 paper, Table 1); `{prompt}` is the one placeholder.
export const R1_TEMPLATE =
  'A conversation between User and Assistant. The user asks a question, and the Assistant solves it. ' +
  'The assistant first thinks about the reasoning process in the mind and then provides the user with the answer. ' +
  'The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, ' +
  'i.e., <think> reasoning process here </think> <answer> answer here </answer>. User: {prompt}. Assistant:';

/** What `thinkPrefill` appends: R1-Distill's template ends its generation prompt so. */
export const THINK_PREFILL = '<think>\n';

export interface ChatFormat {
  /** The model's input text for a user prompt. */
  render(prompt: string): string;
  /** True when the text carries the model's special tokens itself (its own template): no BOS is added. */
  ownSpecialTokens: boolean;
}

/** The model's own chat template in its checkpoint assets (chat_template.jinja, or tokenizer_config.json's chat_template). */
export function modelChatTemplate(assets: Record<string, Uint8Array> = {}): string | undefined {
  if (assets['chat_template.jinja']) return Buffer.from(assets['chat_template.jinja']).toString('utf8');
  const config = assets['tokenizer_config.json'] && (JSON.parse(Buffer.from(assets['tokenizer_config.json']).toString('utf8')) as Record<string, unknown>);
  const t = config?.chat_template;
  if (typeof t === 'string') return t;
  // Some models keep several named templates; "default" is the chat one.
  if (Array.isArray(t)) return (t as { name?: string; template?: string }[]).find((x) => x.name === 'default')?.template;
  return undefined;
}

export function chatFormatOf(assets: Record<string, Uint8Array> | undefined, settings: ChatSettings): ChatFormat {
  const own = modelChatTemplate(assets);
  const name = settings.chatTemplate === 'auto' ? (own ? 'model' : 'r1') : settings.chatTemplate;
  const prefill = settings.thinkPrefill ? THINK_PREFILL : '';
  if (name === 'model') {
    if (!own) throw new Error('chatTemplate is "model" but the model\'s checkpoint has no chat template (tokenizer_config.json chat_template or chat_template.jinja)');
    const template = new Template(own);
    const config = assets?.['tokenizer_config.json'] ? (JSON.parse(Buffer.from(assets['tokenizer_config.json']).toString('utf8')) as Record<string, unknown>) : {};
    const specials = Object.fromEntries(['bos_token', 'eos_token', 'pad_token', 'unk_token'].map((k) => [k, tokenText(config[k]) ?? '']));
    return {
      ownSpecialTokens: true,
      render: (prompt) => {
        const messages = [...(settings.systemPrompt === undefined ? [] : [{ role: 'system', content: settings.systemPrompt }]), { role: 'user', content: prompt }];
        return template.render({ messages, add_generation_prompt: true, ...specials }) + prefill;
      },
    };
  }
  const [before, after] = (name === 'r1' ? R1_TEMPLATE : '{prompt}').split('{prompt}');
  // Concatenation, not String.replace: a prompt containing "$&" or "{prompt}" stays as written.
  return { ownSpecialTokens: false, render: (prompt) => before + prompt + after + (prefill && name === 'r1' ? ` ${prefill}` : prefill) };
}
