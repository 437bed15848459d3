"""Loads a folder `r1 export` wrote with transformers, as a user would, and compares it with a
reference model: the logits of a chat prompt and a greedy continuation. Run by hand in a venv
with torch and transformers (CI does not need them):

    .build/venv/bin/python bench/check_export.py EXPORTED_DIR [GGUF_FILE]

With GGUF_FILE, the reference is transformers' own load of that GGUF (the file the export came
from); the tokenizers and chat templates of both are compared too.
"""
import os
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

exported = sys.argv[1]
torch.manual_seed(0)
tok = AutoTokenizer.from_pretrained(exported)
model = AutoModelForCausalLM.from_pretrained(exported, dtype=torch.float32).eval()
print(f"loaded {exported}: {type(model).__name__}, {sum(p.numel() for p in model.parameters()):,} parameters, dtype {next(model.parameters()).dtype}")
messages = [{"role": "user", "content": "What is 7 * 6?"}]
text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
ids = torch.tensor([tok(text, add_special_tokens=False).input_ids])
with torch.no_grad():
    logits = model(ids).logits[0]
    out = model.generate(ids, max_new_tokens=24, do_sample=False)[0][ids.shape[1]:]
print("chat prompt:", repr(text))
print("greedy:", repr(tok.decode(out, skip_special_tokens=True)))

if len(sys.argv) > 2:
    gguf = sys.argv[2]
    ref_tok = AutoTokenizer.from_pretrained(os.path.dirname(os.path.abspath(gguf)), gguf_file=os.path.basename(gguf))
    ref = AutoModelForCausalLM.from_pretrained(os.path.dirname(os.path.abspath(gguf)), gguf_file=os.path.basename(gguf), dtype=torch.float32).eval()
    assert ref_tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) == text, "chat templates differ"
    for s in ["Hello world", "What is 12 + 345?", "Ünïcödé 日本語 🙂", "def f(x):\n    return x"]:
        assert ref_tok(s, add_special_tokens=False).input_ids == tok(s, add_special_tokens=False).input_ids, f"tokenization differs: {s!r}"
    sd, ref_sd = model.state_dict(), ref.state_dict()
    worst = max((sd[k] - ref_sd[k]).abs().max().item() for k in ref_sd)
    with torch.no_grad():
        ref_logits = ref(ids).logits[0]
    print(f"vs {gguf}: tokenizer and chat template identical; max weight difference {worst:.3g}; max logit difference {(logits - ref_logits).abs().max().item():.3g}")
