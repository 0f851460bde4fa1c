"""PyTorch baselines for `deno task bench personalize` (dev-time only).

  personalize.py MODEL_DIR MODE THREADS STEPS
MODE "paper": the paper's loop (Adam over text_model parameters, loss = -cos) on CLIPModel weights: time per step.
MODE "a1111": the A1111 extension's loop: deep copy of the model, then Adam; peak memory.
Prints one JSON line.
"""

import copy
import json
import resource
import sys
import time

import torch
from transformers import CLIPTextModelWithProjection

model_dir, mode, threads, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
base = CLIPTextModelWithProjection.from_pretrained(model_dir).eval()
ids = torch.tensor([[49406, 320, 3365, 539, 320, 2183, 530, 518, 3293, 49407] + [49407] * 67])
e = torch.randn(1, base.config.projection_dim, generator=torch.Generator().manual_seed(0))
e = e / e.norm(dim=-1, keepdim=True)
model = copy.deepcopy(base) if mode == "a1111" else base
opt = torch.optim.Adam(model.text_model.parameters(), lr=1e-4)


def step():
    opt.zero_grad()
    q = model(input_ids=ids).text_embeds
    q = q / q.norm(dim=-1, keepdim=True)
    (-(q @ e.T)).mean().backward()
    opt.step()


step()  # warm-up (allocates Adam state)
per_step = float("inf")
for _ in range(3):  # best of three, as the other side
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    per_step = min(per_step, (time.perf_counter() - t0) / steps)
with torch.no_grad():
    model.text_model(input_ids=ids)
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"mode": mode, "per_step_s": per_step, "peak_rss_mb": peak_kb / 1024}))
