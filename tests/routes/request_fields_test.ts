// Every field of the API's generation requests goes somewhere (routes/schemas.ts: JOB_FIELDS or OTHER_FIELDS),
// and each one sent reaches the sampler or the infotext; what the pipeline refuses answers 422 naming the field.
import { deepStrictEqual as assertEquals, notDeepStrictEqual, ok } from "node:assert";
import { join } from "node:path";
import { parseInfotext } from "../../lib/io/infotext.ts";
import { encodeBase64 } from "../../routes/sdapi.ts";
import { Img2ImgRequest, JOB_FIELDS, OTHER_FIELDS, Txt2ImgRequest } from "../../routes/schemas.ts";
import { FIXTURES } from "../fixtures.ts";
import { post, startServer } from "./server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

interface Answer {
  status: number;
  images: string[];
  info: Record<string, unknown> & { infotexts: string[] };
  detail?: { loc: (string | number)[]; msg: string }[];
}

/** The standard and extension fields of an infotext, by key. */
function fields(infotext: string): Map<string, string> {
  return new Map(parseInfotext(infotext).params);
}

Deno.test("every API field is placed: copied into the job, or used as OTHER_FIELDS says", () => {
  const api = new Set([...Object.keys(Txt2ImgRequest.shape), ...Object.keys(Img2ImgRequest.shape)]);
  const placed = new Set([...Object.keys(JOB_FIELDS), ...Object.keys(OTHER_FIELDS)]);
  assertEquals([...api].sort(), [...placed].sort());
});

Deno.test("each API field sent reaches the sampler or the infotext", opts, async () => {
  const s = await startServer();
  try {
    const call = async (path: string, body: unknown): Promise<Answer> => {
      const r = await post(`${s.url}/sdapi/v1/${path}`, body);
      const json = await r.json();
      return { status: r.status, ...json, info: json.info ? JSON.parse(json.info) : undefined };
    };
    const init = encodeBase64(await Deno.readFile(join(FIXTURES, "images", "rgb.png")));
    const every = {
      prompt: "a red boat",
      negative_prompt: "blurry",
      styles: ["my style"],
      seed: 123,
      sampler_name: "DDIM",
      batch_size: 2,
      n_iter: 2,
      steps: 3,
      cfg_scale: 5.5,
      width: 32,
      height: 48,
      eta: 0.5,
      override_settings: { sd_model_checkpoint: "tiny-demo", CLIP_stop_at_last_layers: 2 },
      override_settings_restore_afterwards: false,
      script_name: null,
      script_args: [],
      send_images: true,
      save_images: true,
      alwayson_scripts: {
        "Aesthetic embeddings": { args: [0.5, 2, 0.001, true, "tiny-demo", "sunset", 0.2, true] },
      },
    };
    const t = await call("txt2img", { ...every, enable_hr: false, denoising_strength: null });
    assertEquals(t.status, 200, JSON.stringify(t.detail));
    assertEquals(t.images.length, 4, "n_iter × batch_size images");
    const f = fields(t.info.infotexts[0]);
    const info = parseInfotext(t.info.infotexts[0]);
    assertEquals(
      [info.prompt, info.negativePrompt],
      ["a red boat, oil painting", "blurry, lowres"],
      "styles",
    );
    assertEquals(
      ["Steps", "Sampler", "CFG scale", "Seed", "Size", "Model", "Clip skip", "Eta DDIM"].map((k) =>
        f.get(k)
      ),
      ["3", "DDIM", "5.5", "123", "32x48", "tiny-demo", "2", "0.5"],
    );
    assertEquals(f.get("Denoising strength"), undefined, "txt2img has none");
    assertEquals(
      ["Aesthetic weight", "Aesthetic steps", "Aesthetic LR", "Aesthetic slerp", "Aesthetic text"].map((k) =>
        f.get(k)
      ),
      ["0.5", "2", "0.001", "True", "sunset"],
    );
    assertEquals([t.info.styles, t.info.batch_size, t.info.all_seeds], [["my style"], 2, [
      123,
      124,
      125,
      126,
    ]]);
    // A1111's layout: outputs/txt2img-images/<date>/00000-<seed>.png, numbered in the day's folder.
    const days = join(s.embeddingsDir, "..", "outputs", "txt2img-images");
    const [day] = [...Deno.readDirSync(days)].map((d) => d.name);
    const saved = [...Deno.readDirSync(join(days, day))].map((f) => f.name).sort();
    assertEquals(saved, ["00000-123.png", "00001-124.png", "00002-125.png", "00003-126.png"], "save_images");

    const quiet = await call("txt2img", { ...every, send_images: false, save_images: false, n_iter: 1 });
    assertEquals(
      [quiet.status, quiet.images.length, quiet.info.infotexts.length],
      [200, 0, 2],
      "send_images",
    );

    const byIndex = await call("txt2img", { steps: 1, width: 32, height: 32, sampler_index: "Euler" });
    assertEquals(fields(byIndex.info.infotexts[0]).get("Sampler"), "Euler", "sampler_index");

    const i2i = await call("img2img", { ...every, init_images: [init], denoising_strength: 0.6, mask: null });
    assertEquals(i2i.status, 200, JSON.stringify(i2i.detail));
    assertEquals(fields(i2i.info.infotexts[0]).get("Denoising strength"), "0.6");

    const grid = await call("txt2img", {
      steps: 1,
      width: 32,
      height: 32,
      alwayson_scripts: { "Aesthetic embeddings": { args: [0.9, 1, 0.001, false, "tiny-demo"] } },
      xy_grid: { axis: "Aesthetic steps", values: "1,2" },
    });
    assertEquals(grid.info.labels, ["Aesthetic steps: 1, 2", "Aesthetic steps: 1", "Aesthetic steps: 2"]);

    // Refused fields name themselves.
    for (
      const [body, loc] of [
        [{ enable_hr: true, hr_upscaler: "ESRGAN_4x" }, "body.hr_upscaler"],
        [{ script_name: "X/Y plot" }, "body.script_name"],
        [{ script_args: "no" }, "body.script_args"],
        [{ override_settings_restore_afterwards: "maybe" }, "body.override_settings_restore_afterwards"],
      ] as const
    ) {
      const r = await call("txt2img", body);
      assertEquals([r.status, r.detail?.[0].loc.join(".")], [422, loc]);
    }
    const masked = await call("img2img", { init_images: [init], mask: "m" });
    assertEquals([masked.status, masked.detail?.[0].loc.join(".")], [422, "body.mask"]);
  } finally {
    await s.close();
  }
});

Deno.test("eta reaches DDIM: the same seed gives other images for eta 0 and 1", opts, async () => {
  const s = await startServer();
  try {
    const image = async (eta: number) => {
      const r = await post(`${s.url}/sdapi/v1/txt2img`, {
        prompt: "a lighthouse",
        sampler_name: "DDIM",
        steps: 4,
        seed: 7,
        width: 32,
        height: 32,
        eta,
      });
      assertEquals(r.status, 200);
      return (await r.json()).images[0];
    };
    const [zero, one] = [await image(0), await image(1)];
    notDeepStrictEqual(zero, one);
    assertEquals(await image(0), zero, "eta 0 is deterministic");
  } finally {
    await s.close();
  }
});

Deno.test(
  "a request the pipeline refuses, a size off the grid, an unknown model or a bad Clip skip answer 422 naming the field",
  opts,
  async () => {
    const s = await startServer();
    try {
      // Any multiple of 8 runs now, and A1111's samplers run at least one img2img step; what the pipeline
      // still refuses is, e.g., a seed-resize size below 8.
      const r = await post(`${s.url}/sdapi/v1/txt2img`, { prompt: "x", steps: 2, seed_resize_from_w: 4 });
      const body = await r.json();
      assertEquals([r.status, body.detail[0].loc], [422, ["body", "seed_resize_from_w"]]);
      ok(/from 8 to 16384/.test(body.detail[0].msg), body.detail[0].msg);
      const odd = await post(`${s.url}/sdapi/v1/txt2img`, { prompt: "x", steps: 1, width: 68, height: 64 });
      assertEquals([odd.status, (await odd.json()).detail[0].loc], [422, ["body", "width"]]);
      const model = await post(`${s.url}/sdapi/v1/txt2img`, {
        steps: 1,
        override_settings: { sd_model_checkpoint: "nope" },
      });
      assertEquals((await model.json()).detail[0].loc, ["body", "override_settings", "sd_model_checkpoint"]);
      const skip = await post(`${s.url}/sdapi/v1/txt2img`, {
        steps: 1,
        width: 32,
        height: 32,
        override_settings: { CLIP_stop_at_last_layers: 3 },
      });
      assertEquals((await skip.json()).detail[0].loc, [
        "body",
        "override_settings",
        "CLIP_stop_at_last_layers",
      ]);
    } finally {
      await s.close();
    }
  },
);
