"""PyTorch side of `deno task bench personalize` (dev-time only).

  personalize.py MODEL_DIR ADAM THREADS STEPS      ADAM: "fused" (torch.optim.Adam(fused=True)) or "default"

The paper's loop (Adam over text_model parameters, loss = -cos(text_embeds, e)) on the same weights as the
project's side, measured the same way: set-up (process start to ready for the first step), time per step
(median), the optimizer step alone (median), peak memory. Prints one JSON line.
"""

import json
import resource
import statistics
import sys
import time

import torch
from transformers import CLIPTextModelWithProjection

from process_age import process_age_s

IDS = [49406, 320, 3365, 539, 320, 2183, 530, 518, 3293, 49407] + [49407] * 67
# A prompt that fills all 77 tokens, as in bench/personalize_run.ts.
IDS_FULL = [49406] + [320 + 7 * i for i in range(75)] + [49407]


model_dir, adam, threads, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
model = CLIPTextModelWithProjection.from_pretrained(model_dir, attn_implementation="sdpa").eval()
e = torch.randn(1, model.config.projection_dim, generator=torch.Generator().manual_seed(0))
e = e / e.norm(dim=-1, keepdim=True)
opt = torch.optim.Adam(model.text_model.parameters(), lr=1e-4, fused=(adam == "fused"))
optimizer_s: list[float] = []


def step(ids=torch.tensor([IDS])):
    opt.zero_grad()
    q = model(input_ids=ids).text_embeds
    q = q / q.norm(dim=-1, keepdim=True)
    (-(q @ e.T)).mean().backward()
    t = time.perf_counter()
    opt.step()
    optimizer_s.append(time.perf_counter() - t)


step()  # the first step allocates Adam's state: the warm-up, as on the other side
setup = process_age_s()
optimizer_s.clear()
per_step = []
for _ in range(steps):
    t0 = time.perf_counter()
    step()
    per_step.append(time.perf_counter() - t0)
# The same prompt cut after its end-of-text token: with causal attention the loss and gradients are the same,
# which is what the project's side computes; torch given the same cut.
prefix_ids = torch.tensor([IDS[: IDS.index(49407) + 1]])
per_step_prefix = []
for _ in range(steps):
    t0 = time.perf_counter()
    step(prefix_ids)
    per_step_prefix.append(time.perf_counter() - t0)
full_ids = torch.tensor([IDS_FULL])
per_step_full = []
for _ in range(steps):
    t0 = time.perf_counter()
    step(full_ids)
    per_step_full.append(time.perf_counter() - t0)
print(json.dumps({
    "setup_s": setup,
    "step_s": statistics.median(per_step),
    "step_full_s": statistics.median(per_step_full),
    "step_prefix_s": statistics.median(per_step_prefix),
    "adam_s": statistics.median(optimizer_s[:steps]),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
