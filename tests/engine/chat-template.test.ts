import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHAT_TEMPLATES, renderChat } from '../../engine/chat-template';
import { chatTemplateNameSchema } from '../../schemas/chat-template';

describe('renderChat', () => {
  it('renders the R1-Zero template around the prompt', () => {
    const text = renderChat('r1', 'What is 2+2?');
    assert.match(text, /^A conversation between User and Assistant\. /);
    assert.match(text, /enclosed within <think> <\/think> and <answer> <\/answer> tags/);
    assert.ok(text.endsWith(' User: What is 2+2?. Assistant:'));
  });

  it('inserts the prompt literally', () => {
    assert.equal(renderChat('plain', 'cost: $& {prompt} $1'), 'cost: $& {prompt} $1');
  });

  it('has exactly one placeholder in every template the schema names', () => {
    for (const name of chatTemplateNameSchema.options) assert.equal(CHAT_TEMPLATES[name].split('{prompt}').length, 2, name);
  });
});
