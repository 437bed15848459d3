import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chatFormatOf, modelChatTemplate } from '../../engine/chat-template';

const chatml =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nDefault system.<|im_end|>\\n' }}{% endif %}" +
  "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const assets = { 'tokenizer_config.json': Buffer.from(JSON.stringify({ chat_template: chatml, eos_token: '<|im_end|>' })) };
const settings = { chatTemplate: 'auto' as const, thinkPrefill: false };

describe('chat formats', () => {
  it('renders the R1-Zero template around the prompt, literally', () => {
    const r1 = chatFormatOf(undefined, { ...settings, chatTemplate: 'r1' });
    const text = r1.render('What is 2+2?');
    assert.match(text, /^A conversation between User and Assistant\. /);
    assert.match(text, /enclosed within <think> <\/think> and <answer> <\/answer> tags/);
    assert.ok(text.endsWith(' User: What is 2+2?. Assistant:'));
    assert.equal(r1.ownSpecialTokens, false);
    assert.equal(chatFormatOf(undefined, { ...settings, chatTemplate: 'plain' }).render('cost: $& {prompt} $1'), 'cost: $& {prompt} $1');
  });

  it("renders the model's own Jinja template with its default or a given system prompt and the generation prompt", () => {
    const own = chatFormatOf(assets, settings);
    assert.equal(own.ownSpecialTokens, true);
    assert.equal(own.render('hi'), '<|im_start|>system\nDefault system.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
    const terse = chatFormatOf(assets, { ...settings, systemPrompt: 'Be terse.', thinkPrefill: true });
    assert.equal(terse.render('hi'), '<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n');
  });

  it('falls back to R1 under auto only when the model has no template; "model" without one is an error', () => {
    assert.match(chatFormatOf({}, settings).render('q'), /User: q\. Assistant:$/);
    assert.equal(chatFormatOf({}, { ...settings, thinkPrefill: true }).render('q').endsWith('Assistant: <think>\n'), true);
    assert.throws(() => chatFormatOf({}, { ...settings, chatTemplate: 'model' }), /has no chat template/);
  });

  it('reads the template from chat_template.jinja (transformers 5) before tokenizer_config.json', () => {
    assert.equal(modelChatTemplate({ ...assets, 'chat_template.jinja': Buffer.from('{{ messages[0].content }}') }), '{{ messages[0].content }}');
    assert.equal(modelChatTemplate(assets), chatml);
  });
});
