"""PyTorch baseline for `deno task bench embed` (dev-time only): transformers' CLIPImageProcessor and
CLIPVisionModelWithProjection, batch 32, over every image in a folder. Usage: embed.py MODEL_DIR SRC THREADS."""

import json
import resource
import sys
import time
from pathlib import Path

import torch
from PIL import Image
from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

model_dir, src, threads = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
processor = CLIPImageProcessor.from_pretrained(model_dir)
model = CLIPVisionModelWithProjection.from_pretrained(model_dir).eval()
files = sorted(p for p in src.rglob("*") if p.is_file())
t0 = time.perf_counter()
total = None
with torch.no_grad():
    for i in range(0, len(files), 32):
        images = [Image.open(f).convert("RGB") for f in files[i : i + 32]]
        pixels = processor(images=images, return_tensors="pt").pixel_values
        embeds = model(pixel_values=pixels).image_embeds
        total = embeds.sum(0) if total is None else total + embeds.sum(0)
seconds = time.perf_counter() - t0
peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
print(json.dumps({"images": len(files), "seconds": seconds, "images_per_s": len(files) / seconds, "peak_rss_mb": peak_rss_mb}))
