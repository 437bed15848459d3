import type { ChatTemplateName } from '../schemas/chat-template';

export type { ChatTemplateName };

/** Each template is its full text with one `{prompt}` placeholder; nothing else is substituted. */
export const CHAT_TEMPLATES: Record<ChatTemplateName, string> = {
  plain: '{prompt}',
  // DeepSeek-R1-Zero's training template (DeepSeek-R1 paper, Table 1).
  r1:
    'A conversation between User and Assistant. The user asks a question, and the Assistant solves it. ' +
    'The assistant first thinks about the reasoning process in the mind and then provides the user with the answer. ' +
    'The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, ' +
    'i.e., <think> reasoning process here </think> <answer> answer here </answer>. User: {prompt}. Assistant:',
};

export function renderChat(template: ChatTemplateName, prompt: string): string {
  const [before, after] = CHAT_TEMPLATES[template].split('{prompt}');
  // Concatenation, not String.replace: a prompt containing "$&" or "{prompt}" stays as written.
  return before + prompt + after;
}
