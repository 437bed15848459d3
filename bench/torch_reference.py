"""PyTorch eager reference for bench/engine.ts: the same Llama-style model (grouped-query heads,
tied embeddings when the config says so), batch and threads.

Usage: python3 bench/torch_reference.py '<json>'; prints one JSON line of tokens/s
(sft, grpo, generateCached) and peak RSS (MiB). Needs torch importable (PYTHONPATH, or
BENCH_PYTHON naming a venv's python); not a project dependency.
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn.functional as F

args = json.loads(sys.argv[1])
cfg = args["model"]
torch.set_num_threads(args["threads"])
torch.manual_seed(0)
d, H, L, V, I = cfg["hiddenSize"], cfg["numHeads"], cfg["numLayers"], cfg["vocabSize"], cfg["intermediateSize"]
KV = cfg["numKvHeads"]
hd = cfg.get("headDim") or d // H
tied = cfg.get("tieEmbeddings", False)


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + cfg["rmsNormEps"]) * w


def rope(x, pos):
    inv = 1.0 / (cfg["ropeTheta"] ** (torch.arange(0, hd, 2).float() / hd))
    ang = pos[:, None, :, None].float() * inv
    emb = torch.cat([ang, ang], -1)
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return x * emb.cos() + torch.cat([-x2, x1], -1) * emb.sin()


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        p = lambda *s: torch.nn.Parameter(torch.randn(*s) * 0.02)
        self.embed = p(V, d)
        self.layers = torch.nn.ModuleList()
        for _ in range(L):
            m = torch.nn.ParameterDict(dict(q=p(H * hd, d), k=p(KV * hd, d), v=p(KV * hd, d), o=p(d, H * hd), gate=p(I, d), up=p(I, d), down=p(d, I),
                                            n1=torch.nn.Parameter(torch.ones(d)), n2=torch.nn.Parameter(torch.ones(d))))
            self.layers.append(m)
        self.norm = torch.nn.Parameter(torch.ones(d))
        self.head = None if tied else p(V, d)

    def forward(self, ids, pos, cache=None):
        B, T = ids.shape
        h = self.embed[ids]
        new_cache = []
        for i, m in enumerate(self.layers):
            x = rms(h, m["n1"])
            q = rope((x @ m["q"].T).view(B, T, H, hd).transpose(1, 2), pos)
            k = rope((x @ m["k"].T).view(B, T, KV, hd).transpose(1, 2), pos)
            v = (x @ m["v"].T).view(B, T, KV, hd).transpose(1, 2)
            if cache is not None:
                k = torch.cat([cache[i][0], k], 2)
                v = torch.cat([cache[i][1], v], 2)
            new_cache.append((k, v))
            # grouped-query heads as transformers' eager attention does it (repeat_kv)
            kr, vr = (k, v) if KV == H else (k.repeat_interleave(H // KV, 1), v.repeat_interleave(H // KV, 1))
            a = F.scaled_dot_product_attention(q, kr, vr, is_causal=cache is None)
            h = h + a.transpose(1, 2).reshape(B, T, H * hd) @ m["o"].T
            x = rms(h, m["n2"])
            h = h + (F.silu(x @ m["gate"].T) * (x @ m["up"].T)) @ m["down"].T
        return rms(h, self.norm) @ (self.embed if self.head is None else self.head).T, new_cache


model = Model()
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
B, T, P = args["batch"], args["seq"], args["promptLen"]
ids = torch.randint(0, min(V, 256), (B, T))
pos = torch.arange(T).expand(B, T)
mask = torch.zeros(B, T - 1)
mask[:, P - 1:] = 1


def token_logprobs(with_log_softmax=False):
    logits, _ = model(ids, pos)
    log_softmax = torch.log_softmax(logits[:, :-1], -1)
    lp = log_softmax.gather(-1, ids[:, 1:, None]).squeeze(-1)
    return (lp, log_softmax) if with_log_softmax else lp


def step(loss_fn):
    opt.zero_grad()
    loss = loss_fn()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


def sft_loss():
    return -(token_logprobs() * mask).sum() / mask.sum()


with torch.no_grad():
    old = token_logprobs()
adv = torch.tensor([(1.0 if i % 2 else -1.0) for i in range(B)])[:, None]


def grpo_loss():
    lp, log_softmax = token_logprobs(with_log_softmax=True)
    ratio = (lp - old).exp()
    surrogate = torch.minimum(ratio * adv, ratio.clamp(0.8, 1.28) * adv)
    kl = (old - lp).exp() - (old - lp) - 1
    with torch.no_grad():  # unused here, but the engine's GRPO step computes these metrics too
        masked_mean = lambda x: (x * mask).sum() / mask.sum()
        _metrics = [masked_mean(kl), masked_mean(((ratio < 0.8) & (adv < 0)).float()), masked_mean(((ratio > 1.28) & (adv > 0)).float()),
                   masked_mean(-(log_softmax.exp() * log_softmax).sum(-1))]
    return ((-surrogate + 0.04 * kl) * mask).sum() / mask.sum()


def timed(f, n):
    """Seconds of the fastest of n calls after one untimed call, as bench/engine.ts times the engine."""
    f()
    best = math.inf
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def generate():
    with torch.no_grad():
        prompt = torch.randint(0, min(V, 256), (B, P))
        logits, cache = model(prompt, torch.arange(P).expand(B, P))
        for t in range(1, args["newTokens"]):
            nxt = logits[:, -1].argmax(-1)[:, None]
            logits, cache = model(nxt, torch.full((B, 1), P + t - 1), cache)


n = args["steps"]
out = {
    "sft": B * T / timed(lambda: step(sft_loss), n),
    "grpo": B * T / timed(lambda: step(grpo_loss), n),
    "generateCached": B * args["newTokens"] / timed(generate, 1),
}
out["peakRssMiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
