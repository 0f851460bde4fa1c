"""PyTorch baseline for `deno task bench txt2img` (dev-time only): diffusers' StableDiffusionPipeline in eager
mode (inference_mode, SDPA attention: its defaults) on the same weights, Euler, CFG 7.5.
Usage: txt2img.py MODEL_DIR THREADS STEPS SIZE → one JSON line, measured as bench/txt2img_run.ts measures."""

import json
import statistics
import sys
import time

import torch
from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline

from process_age import process_age_s

model_dir, threads, steps, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
pipe = StableDiffusionPipeline.from_pretrained(model_dir, safety_checker=None, requires_safety_checker=False)
pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config, timestep_spacing="linspace")
pipe.set_progress_bar_config(disable=True)
times = []
starts = {}
pipe.unet.register_forward_pre_hook(lambda m, a: starts.__setitem__("t", time.perf_counter()))
pipe.unet.register_forward_hook(lambda m, a, o: times.append(time.perf_counter() - starts["t"]))
t0 = time.perf_counter()
with torch.inference_mode():
    pipe("a photograph of a lighthouse at dusk", num_inference_steps=steps, guidance_scale=7.5, height=size,
         width=size, generator=torch.Generator().manual_seed(1))
wall = time.perf_counter() - t0
print(json.dumps({
    "wall_s": wall,
    "unet_step_s": statistics.median(times[1:]),
    "process_s": process_age_s(),
    "steps": steps,
}))
