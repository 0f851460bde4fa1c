// A1111 API conformance (issue 13): options with A1111's keys, override_settings, the endpoints A1111 clients
// call, pydantic-v1 leniency, sampler aliases and schedule types, variation seeds, the noise source, the
// parameters echo, raw-typed extra_generation_params and A1111's job names.
import { deepStrictEqual as assertEquals, notDeepStrictEqual, ok } from "node:assert";
import { join } from "node:path";
import { parseInfotext } from "../../lib/io/infotext.ts";
import { MODELS_DIR } from "../../lib/models/defaults.ts";
import { A1111_DEFAULTS } from "../../lib/server/options.ts";
import { encodeBase64 } from "../../routes/sdapi.ts";
import { FIXTURES } from "../fixtures.ts";
import { post, startServer, type TestServer } from "./server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const small = { prompt: "a lighthouse", steps: 2, width: 32, height: 32, seed: 3 };

async function call(s: TestServer, path: string, body?: unknown) {
  const r = body === undefined
    ? await fetch(`${s.url}/sdapi/v1/${path}`)
    : await post(`${s.url}/sdapi/v1/${path}`, body);
  const json = await r.json();
  return { status: r.status, json, info: typeof json.info === "string" ? JSON.parse(json.info) : undefined };
}

const fields = (infotext: string) => new Map(parseInfotext(infotext).params);

Deno.test(
  "options: A1111's keys and defaults, persisted; the checkpoint by title, name or hash",
  opts,
  async () => {
    const settings = join(await Deno.makeTempDir(), "config.json");
    const s = await startServer({ settingsFile: settings });
    try {
      const o = (await call(s, "options")).json;
      for (
        const k of ["send_seed", "samples_format", "jpeg_quality", "eta_ddim", "eta_ancestral", "s_noise"]
      ) {
        assertEquals(o[k], A1111_DEFAULTS[k], k);
      }
      assertEquals(o.randn_source, "GPU", "A1111's default noise source");
      const title = o.sd_model_checkpoint as string;
      const models = (await call(s, "sd-models")).json;
      const tiny = models.find((m: { model_name: string }) => m.model_name === "tiny-demo");
      assertEquals(title, tiny.title);
      // test_options_write, as A1111's own test does it.
      assertEquals((await call(s, "options", { send_seed: !o.send_seed })).status, 200);
      assertEquals((await call(s, "options")).json.send_seed, !o.send_seed);
      assertEquals(JSON.parse(await Deno.readTextFile(settings)).send_seed, !o.send_seed, "persisted");
      for (const ref of [title, "tiny-demo", tiny.hash]) {
        assertEquals((await call(s, "options", { sd_model_checkpoint: ref })).status, 200, ref);
        assertEquals((await call(s, "options")).json.sd_model_checkpoint, title);
      }
      const bad = await call(s, "options", { jpeg_quality: "high", randn_source: "GPU" });
      assertEquals([bad.status, bad.json.detail[0].loc], [422, ["body", "jpeg_quality"]]);
      const rng = await call(s, "options", { randn_source: "TPU" });
      assertEquals(rng.status, 422);
      assertEquals((await call(s, "options", { no_such_option: 1 })).status, 200, "unknown keys ignored");
    } finally {
      await s.close();
    }
  },
);

Deno.test("override_settings apply to one request, or stay with restore_afterwards false", opts, async () => {
  const s = await startServer();
  try {
    const t = await call(s, "txt2img", {
      ...small,
      override_settings: { CLIP_stop_at_last_layers: 2, randn_source: "CPU" },
    });
    assertEquals(t.status, 200, JSON.stringify(t.json));
    const f = fields(t.info.infotexts[0]);
    assertEquals([f.get("Clip skip"), f.get("RNG")], ["2", "CPU"]);
    assertEquals((await call(s, "options")).json.CLIP_stop_at_last_layers, 1, "restored");
    const gpu = await call(s, "txt2img", small);
    assertEquals(fields(gpu.info.infotexts[0]).get("RNG"), undefined, "GPU, A1111's default, is not written");
    notDeepStrictEqual(gpu.json.images[0], t.json.images[0]);
    await call(s, "txt2img", {
      ...small,
      override_settings: { randn_source: "NV" },
      override_settings_restore_afterwards: false,
    });
    assertEquals((await call(s, "options")).json.randn_source, "NV", "kept");
    const bad = await call(s, "txt2img", { ...small, override_settings: { randn_source: 3 } });
    assertEquals(bad.json.detail[0].loc, ["body", "override_settings", "randn_source"]);
    // ENSD: Euler a's noise after the starting noise comes from seed + 31337; named in the infotext.
    const ancestral = { ...small, sampler_name: "Euler a" };
    const ensd = await call(s, "txt2img", {
      ...ancestral,
      override_settings: { eta_noise_seed_delta: 31337 },
    });
    assertEquals(fields(ensd.info.infotexts[0]).get("ENSD"), "31337");
    const plain = await call(s, "txt2img", ancestral);
    assertEquals(fields(plain.info.infotexts[0]).get("ENSD"), undefined);
    notDeepStrictEqual(plain.json.images[0], ensd.json.images[0]);
    const badEnsd = await call(s, "txt2img", { ...small, override_settings: { eta_noise_seed_delta: 0.5 } });
    assertEquals(badEnsd.json.detail[0].loc, ["body", "override_settings", "eta_noise_seed_delta"]);
  } finally {
    await s.close();
  }
});

Deno.test(
  "the endpoints A1111 clients read answer JSON in A1111's shapes; unknown routes a JSON 404",
  opts,
  async () => {
    const s = await startServer();
    try {
      for (
        const path of [
          "cmd-flags",
          "samplers",
          "schedulers",
          "upscalers",
          "sd-models",
          "sd-vae",
          "loras",
          "hypernetworks",
          "face-restorers",
          "realesrgan-models",
          "prompt-styles",
          "embeddings",
          "scripts",
          "script-info",
          "latent-upscale-modes",
          "memory",
          "options",
          "progress",
        ]
      ) assertEquals((await call(s, path)).status, 200, path);
      const samplers = (await call(s, "samplers")).json;
      const euler = samplers.find((x: { name: string }) => x.name === "Euler a");
      assertEquals(euler.aliases, ["k_euler_a", "k_euler_ancestral"]);
      ok((await call(s, "schedulers")).json.some((x: { label: string }) => x.label === "Karras"));
      // A1111 lists selectable scripts with the always-on ones.
      assertEquals((await call(s, "scripts")).json.txt2img, ["x/y/z plot", "aesthetic embeddings"]);
      const info = (await call(s, "script-info")).json[0];
      // A1111's extension's eight args, and ours: the second embedding for SDXL's other text encoder.
      assertEquals([info.name, info.is_alwayson, info.args.length], ["aesthetic embeddings", true, 9]);
      assertEquals((await call(s, "embeddings")).json, { loaded: {}, skipped: {} });
      assertEquals((await call(s, "prompt-styles")).json[0], {
        name: "my style",
        prompt: "{prompt}, oil painting",
        negative_prompt: "lowres",
      });
      assertEquals((await call(s, "cmd-flags")).json.api_auth, null);
      ok((await call(s, "memory")).json.ram.total > 0);
      const missing = await fetch(`${s.url}/sdapi/v1/no-such-thing`);
      assertEquals([missing.status, await missing.json()], [404, { detail: "Not Found" }]);
    } finally {
      await s.close();
    }
  },
);

Deno.test(
  "pydantic v1 semantics: null is the default, numeric strings coerce, extra script args drop",
  opts,
  async () => {
    const s = await startServer();
    try {
      const t = await call(s, "txt2img", {
        ...small,
        steps: "2",
        cfg_scale: "7.5",
        sampler_name: null,
        scheduler: null,
        eta: null,
        styles: null,
        enable_hr: null,
        alwayson_scripts: {
          "Aesthetic embeddings": {
            args: [0.9, "1", "0.0001", false, "tiny-demo", "", 0.1, false, "None", "extra", 1],
          },
        },
      });
      assertEquals(t.status, 200, JSON.stringify(t.json));
      const f = fields(t.info.infotexts[0]);
      assertEquals([f.get("Steps"), f.get("CFG scale"), f.get("Sampler"), f.get("Aesthetic LR")], [
        "2",
        "7.5",
        "Euler",
        "0.0001",
      ]);
      // No bounds A1111 lacks; resource limits are server options with a 422 naming the option.
      const many = await call(s, "txt2img", { ...small, steps: 1001 });
      assertEquals(many.json.detail[0].loc, ["body", "steps"]);
      ok(/--max-steps/.test(many.json.detail[0].msg), many.json.detail[0].msg);
      const batch = await call(s, "txt2img", { ...small, batch_size: 17 });
      ok(/--max-batch-size/.test(batch.json.detail[0].msg));
      assertEquals((await call(s, "txt2img", { ...small, cfg_scale: 31 })).status, 200, "no cfg bound");
      const tiling = await call(s, "txt2img", { ...small, tiling: true });
      assertEquals([tiling.status, tiling.json.detail[0].loc], [422, ["body", "tiling"]]);
    } finally {
      await s.close();
    }
  },
);

Deno.test(
  "samplers by alias and schedule type; eta, s_* and variation seeds reach the infotext",
  opts,
  async () => {
    const s = await startServer();
    try {
      const alias = await call(s, "txt2img", { ...small, sampler_name: "k_euler_a" });
      assertEquals(alias.status, 200, JSON.stringify(alias.json));
      const sched = await call(s, "txt2img", { ...small, sampler_name: "DPM++ 2M", scheduler: "Karras" });
      assertEquals(fields(sched.info.infotexts[0]).get("Schedule type"), "Karras");
      const euler = await call(s, "txt2img", {
        ...small,
        sampler_name: "Euler",
        s_churn: 0.5,
        s_noise: 0.9,
      });
      const f = fields(euler.info.infotexts[0]);
      assertEquals([f.get("Sigma churn"), f.get("Sigma noise")], ["0.5", "0.9"]);
      assertEquals(euler.info.extra_generation_params["Sigma churn"], 0.5, "raw-typed");
      const eta = await call(s, "txt2img", { ...small, sampler_name: "Euler a", eta: 0.5 });
      assertEquals(fields(eta.info.infotexts[0]).get("Eta"), "0.5");
      const v = await call(s, "txt2img", {
        ...small,
        subseed: -1,
        subseed_strength: 0.3,
        seed_resize_from_w: 64,
        seed_resize_from_h: 64,
      });
      const vf = fields(v.info.infotexts[0]);
      ok(Number(vf.get("Variation seed")) >= 0, "subseed -1 is random");
      assertEquals([vf.get("Variation seed strength"), vf.get("Seed resize from")], ["0.3", "64x64"]);
      assertEquals([v.info.subseed, v.info.subseed_strength], [Number(vf.get("Variation seed")), 0.3]);
      const unknown = await call(s, "txt2img", { ...small, scheduler: "Nope" });
      assertEquals(unknown.json.detail[0].loc, ["body", "scheduler"]);
    } finally {
      await s.close();
    }
  },
);

Deno.test("parameters echo the whole request (init images only when asked), bounded", opts, async () => {
  const s = await startServer();
  try {
    const t = await call(s, "txt2img", { ...small, negative_prompt: "x".repeat(70000) });
    assertEquals(
      [t.json.parameters.steps, t.json.parameters.sampler_index, t.json.parameters.restore_faces],
      [2, "Euler", false],
    );
    ok(t.json.parameters.negative_prompt.length < 66000, "long strings are cut in the echo");
    const init = encodeBase64(await Deno.readFile(join(FIXTURES, "images", "rgb.png")));
    const i = await call(s, "img2img", { ...small, init_images: [init] });
    assertEquals(i.json.parameters.init_images, null);
    const inc = await call(s, "img2img", { ...small, init_images: [init], include_init_images: true });
    assertEquals(inc.json.parameters.init_images, [init]);
  } finally {
    await s.close();
  }
});

Deno.test(
  "with two models, setting sd_model_checkpoint to a title (webuiapi's util_set_model) switches",
  opts,
  async () => {
    const models = await Deno.makeTempDir({ prefix: "two-models-" });
    const copy = async (from: string, to: string) => {
      await new Deno.Command("cp", { args: ["-r", from, to] }).output();
    };
    await copy(join(MODELS_DIR, "tiny-demo"), join(models, "tiny-demo"));
    await copy(join(MODELS_DIR, "tiny-demo"), join(models, "tiny-demo-b"));
    await copy(join(MODELS_DIR, "tiny-demo-clip"), join(models, "tiny-demo-clip"));
    const s = await startServer({ modelsDir: models });
    try {
      const titles = (await call(s, "sd-models")).json.map((m: { title: string }) => m.title);
      assertEquals(titles.length, 2);
      const b = titles.find((t: string) => t.startsWith("tiny-demo-b "));
      assertEquals((await call(s, "options", { sd_model_checkpoint: b })).status, 200);
      assertEquals((await call(s, "options")).json.sd_model_checkpoint, b);
      assertEquals((await call(s, "txt2img", small)).info.sd_model_name, "tiny-demo-b");
    } finally {
      await s.close();
      await Deno.remove(models, { recursive: true });
    }
  },
);

Deno.test(
  "A1111's own test requests: booleans for its int fields, inpainting, and hires with denoising 0",
  opts,
  async () => {
    const s = await startServer();
    try {
      const init = encodeBase64(await Deno.readFile(join(FIXTURES, "images", "rgb.png")));
      // As A1111's test_img2img.py sends it: inpainting_mask_invert is an int there, sent as false.
      const i2i = {
        ...small,
        init_images: [init],
        denoising_strength: 0.75,
        inpainting_mask_invert: false,
        inpaint_full_res: false,
        mask: null,
        sampler_index: "Euler a",
      };
      assertEquals((await call(s, "img2img", i2i)).status, 200);
      const masked = await call(s, "img2img", { ...i2i, mask: init, inpainting_mask_invert: true });
      assertEquals(masked.status, 200, JSON.stringify(masked.json));
      // test_txt2img.py's hires request keeps its denoising_strength of 0: one step at the smallest sigma.
      const hires = await call(s, "txt2img", { ...small, enable_hr: true, denoising_strength: 0 });
      assertEquals(hires.status, 200, JSON.stringify(hires.json));
      ok(fields(hires.info.infotexts[0]).has("Hires upscale"));
    } finally {
      await s.close();
    }
  },
);
