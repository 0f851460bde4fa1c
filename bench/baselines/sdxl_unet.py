"""PyTorch baseline for `deno task bench sdxl` (dev-time only): diffusers' UNet2DConditionModel in eager mode
(inference_mode, SDPA attention: its defaults, float32) loaded from the same LDM-layout file the ONNX graph was
built from (diffusers' own LDM conversion, one tensor at a time as float32), called as StableDiffusionXLPipeline
calls it for one image with classifier-free guidance (batch 2), on the inputs bench/sdxl_unet_run.ts draws.
Usage: sdxl_unet.py UNET.safetensors CONFIG.json THREADS CALLS SIZE → one JSON line, measured as the Deno side."""

import json
import resource
import statistics
import sys
import time

import torch
from diffusers import UNet2DConditionModel
from diffusers.loaders.single_file_utils import convert_ldm_unet_checkpoint
from safetensors import safe_open

from process_age import process_age_s

path, config_path, threads, calls, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
t0 = time.perf_counter()
config = json.load(open(config_path))
with safe_open(path, "pt") as f:
    ldm = {k: f.get_tensor(k).float() for k in f.keys()}
state = convert_ldm_unet_checkpoint(ldm, config)
del ldm
with torch.device("meta"):
    unet = UNet2DConditionModel.from_config(config)
unet.load_state_dict(state, assign=True, strict=True)
del state
unet.eval()
load_s = time.perf_counter() - t0

g = torch.Generator().manual_seed(0)
hidden = config["cross_attention_dim"]
pooled_width = config["projection_class_embeddings_input_dim"] - 6 * config["addition_time_embed_dim"]
x = torch.randn((1, 4, size // 8, size // 8), generator=g)
cond = torch.randn((1, 77, hidden), generator=g)
uncond = torch.randn((1, 77, hidden), generator=g)
pooled_cond = torch.randn((1, pooled_width), generator=g)
pooled_uncond = torch.randn((1, pooled_width), generator=g)
ids = torch.tensor([[size, size, 0, 0, size, size]] * 2, dtype=torch.float32)
times, checksum = [], 0.0
with torch.inference_mode():
    for i in range(calls):
        t = time.perf_counter()
        # The pipeline's call: negative prompt first, both halves in one batch, then the guidance.
        out = unet(torch.cat([x, x]), torch.tensor(999.0 - 50 * i), encoder_hidden_states=torch.cat([uncond, cond]),
                   added_cond_kwargs={"text_embeds": torch.cat([pooled_uncond, pooled_cond]), "time_ids": ids}).sample
        u, c = out.chunk(2)
        guided = u + 7.5 * (c - u)
        times.append(time.perf_counter() - t)
        checksum = float(guided.abs().mean())
print(json.dumps({
    "unet_step_s": statistics.median(times[1:]),
    "first_call_s": times[0],
    "load_s": load_s,
    "process_s": process_age_s(),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "mean_abs_output": checksum,
    "calls": calls,
}))
