"""PyTorch side of `deno task bench embed` (dev-time only): transformers' CLIPImageProcessor and
CLIPVisionModelWithProjection over every image in a folder, BATCH images decoded and preprocessed at a time.

  embed.py MODEL_DIR SRC THREADS BATCH MICRO

MICRO: images per model call (the project runs 4 on the CPU; transformers' usual way is the whole batch).
Timed as bench/embed_run.ts: steady throughput after the first batch, and the whole process from its start.
"""

import json
import resource
import sys
import time
from pathlib import Path

import torch
from PIL import Image
from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

from process_age import process_age_s


model_dir, src, threads, batch, micro = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
processor = CLIPImageProcessor.from_pretrained(model_dir)
model = CLIPVisionModelWithProjection.from_pretrained(model_dir, attn_implementation="sdpa").eval()
files = sorted(p for p in src.rglob("*") if p.is_file())
total = None
first = None
with torch.inference_mode():
    for i in range(0, len(files), batch):
        images = [Image.open(f).convert("RGB") for f in files[i : i + batch]]
        pixels = processor(images=images, return_tensors="pt").pixel_values
        for j in range(0, len(images), micro):
            embeds = model(pixel_values=pixels[j : j + micro]).image_embeds
            total = embeds.sum(0) if total is None else total + embeds.sum(0)
        if first is None:
            first = (time.perf_counter(), len(images))
steady = time.perf_counter() - first[0]
print(json.dumps({
    "images": len(files),
    "images_per_s": (len(files) - first[1]) / steady,
    "process_s": process_age_s(),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # Linux reports KiB
}))
