// The A1111-compatible API on the real server and pipeline (the embedded tiny demo model).
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { readPngParameters } from "../../lib/io/png.ts";
import { decodeBase64Image } from "../../routes/sdapi.ts";
import { post, startServer } from "./server.ts";

// What an existing A1111 client sends (the shape of e.g. sdwebuiapi's txt2img with an always-on script).
function clientPayload(seed: number, steps = 2) {
  return {
    enable_hr: false,
    denoising_strength: 0,
    firstphase_width: 0,
    firstphase_height: 0,
    prompt: "a lighthouse at dusk, oil painting",
    styles: [],
    seed,
    subseed: -1,
    subseed_strength: 0.0,
    seed_resize_from_h: 0,
    seed_resize_from_w: 0,
    sampler_name: "Euler a",
    sampler_index: "Euler a",
    batch_size: 1,
    n_iter: 1,
    steps,
    cfg_scale: 7.0,
    width: 64,
    height: 64,
    restore_faces: false,
    tiling: false,
    do_not_save_samples: false,
    do_not_save_grid: false,
    negative_prompt: "blurry",
    eta: 0,
    s_churn: 0,
    s_tmax: 0,
    s_tmin: 0,
    s_noise: 1,
    override_settings: {},
    override_settings_restore_afterwards: true,
    script_args: [],
    script_name: null,
    send_images: true,
    save_images: false,
    alwayson_scripts: {
      "Aesthetic embeddings": { args: [0.9, 3, 0.0001, false, "tiny-demo", "", 0.1, false] },
    },
  };
}

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "txt2img with alwayson_scripts: images carry the aesthetic infotext, as A1111 returns them",
  opts,
  async () => {
    const s = await startServer();
    try {
      const r = await post(`${s.url}/sdapi/v1/txt2img`, clientPayload(42));
      assertEquals(r.status, 200, await r.clone().text());
      const body = await r.json();
      assertEquals(Object.keys(body).sort(), ["images", "info", "parameters"]);
      assertEquals(body.images.length, 1);
      const png = decodeBase64Image(body.images[0])!;
      const text = readPngParameters(png)!;
      ok(
        text.startsWith(
          "a lighthouse at dusk, oil painting\nNegative prompt: blurry\nSteps: 2, Sampler: Euler a",
        ),
        text,
      );
      for (
        const field of [
          "Seed: 42",
          "Aesthetic LR: 0.0001",
          "Aesthetic weight: 0.9",
          "Aesthetic steps: 3",
          "Aesthetic embedding: tiny-demo",
          "Aesthetic slerp: False",
          "Aesthetic slerp angle: 0.1",
        ]
      ) ok(text.includes(field), `${field} in ${text}`);
      const info = JSON.parse(body.info);
      assertEquals(info.infotexts, [text]);
      assertEquals([info.seed, info.all_seeds, info.sd_model_name], [42, [42], "tiny-demo"]);
      assertEquals(info.extra_generation_params["Aesthetic embedding"], "tiny-demo");
      assertEquals(info.charts[0].series[0].values.length, 4);
      assertEquals(body.parameters.prompt, "a lighthouse at dusk, oil painting");

      // png-info reads it back.
      const pi =
        await (await post(`${s.url}/sdapi/v1/png-info`, { image: `data:image/png;base64,${body.images[0]}` }))
          .json();
      assertEquals(pi.info, text);
      assertEquals(pi.parameters["Aesthetic embedding"], "tiny-demo");
      assertEquals(pi.parameters["Size-1"], "64");
    } finally {
      await s.close();
    }
  },
);

Deno.test("an X/Y sweep over aesthetic steps: a grid first, then one image per value", opts, async () => {
  const s = await startServer();
  try {
    const r = await post(`${s.url}/sdapi/v1/txt2img`, {
      ...clientPayload(5),
      xy_grid: { axis: "Aesthetic steps", values: "0,2,5" },
    });
    assertEquals(r.status, 200);
    const body = await r.json();
    const info = JSON.parse(body.info);
    assertEquals(body.images.length, 4);
    assertEquals(info.index_of_first_image, 1);
    assertEquals(info.labels, [
      "Aesthetic steps: 0, 2, 5",
      "Aesthetic steps: 0",
      "Aesthetic steps: 2",
      "Aesthetic steps: 5",
    ]);
    const steps = info.infotexts.slice(1).map((t: string) => /Aesthetic steps: (\d+)/.exec(t)?.[1] ?? "none");
    assertEquals(steps, ["none", "2", "5"], "0 steps leaves the extension out, as A1111 does");
    assertEquals(info.charts.map((c: { series: { values: number[] }[] }) => c.series[0].values.length), [
      3,
      6,
    ]);
    assertEquals(info.all_seeds, [5, 5, 5, 5], "same seed across the sweep");
    const bad = await post(`${s.url}/sdapi/v1/txt2img`, {
      ...clientPayload(5),
      xy_grid: { axis: "Nope", values: "1" },
    });
    assertEquals(bad.status, 422);
  } finally {
    await s.close();
  }
});

Deno.test(
  "20 concurrent requests all complete, first in first out, no image lost or duplicated",
  opts,
  async () => {
    const s = await startServer();
    try {
      const done: number[] = [];
      const results = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
        const payload = { ...clientPayload(1000 + i, 1), alwayson_scripts: {} };
        const r = await post(`${s.url}/sdapi/v1/txt2img`, payload);
        const body = await r.json();
        done.push(JSON.parse(body.info).queue_id);
        return { status: r.status, body };
      }));
      assertEquals(results.map((r) => r.status), Array(20).fill(200));
      const seeds = results.map((r) => JSON.parse(r.body.info).seed);
      assertEquals(seeds, Array.from({ length: 20 }, (_, i) => 1000 + i), "each request got its own image");
      assertEquals(new Set(results.map((r) => r.body.images[0])).size, 20, "20 distinct images");
      assertEquals(done, [...done].sort((a, b) => a - b), "completed in queue order");
      assertEquals(new Set(done).size, 20);
    } finally {
      await s.close();
    }
  },
);

Deno.test("interrupt stops a running job within one step", opts, async () => {
  const s = await startServer();
  try {
    // Larger images make each step long enough that the job cannot finish before the interrupt arrives.
    const running = post(`${s.url}/sdapi/v1/txt2img`, {
      ...clientPayload(7, 150),
      width: 256,
      height: 256,
      alwayson_scripts: {},
    });
    let step = 0;
    const seen: number[] = [];
    for (let i = 0; i < 400; i++) {
      const p = await (await fetch(`${s.url}/sdapi/v1/progress?skip_current_image=true`)).json();
      step = p.state.sampling_step;
      seen.push(step);
      if (step >= 2) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    ok(step >= 2, "the job started stepping");
    // A step whose preview was still being encoded once arrived after later steps and set the count back.
    ok(seen.every((v, i) => i === 0 || v >= seen[i - 1]), `the step count went back: ${seen}`);
    const progress = await (await fetch(`${s.url}/sdapi/v1/progress`)).json();
    assertEquals(progress.state.job, "scripts_txt2img", "A1111's job name");
    ok(progress.progress > 0 && progress.progress < 1);
    await post(`${s.url}/sdapi/v1/interrupt`, {});
    const atInterrupt = (await (await fetch(`${s.url}/sdapi/v1/progress`)).json()).state.sampling_step;
    ok(atInterrupt >= step, `the step count went back from ${step} to ${atInterrupt}`);
    const r = await running;
    assertEquals(r.status, 200);
    const info = JSON.parse((await r.json()).info);
    assertEquals(info.interrupted, true, JSON.stringify({ atInterrupt, steps_done: info.steps_done }));
    ok(info.steps_done <= atInterrupt + 1, `stopped at ${info.steps_done}, interrupted at ${atInterrupt}`);
    ok(info.steps_done < 150);
    // The next job runs normally.
    const next = await post(`${s.url}/sdapi/v1/txt2img`, { ...clientPayload(8, 1), alwayson_scripts: {} });
    assertEquals(JSON.parse((await next.json()).info).interrupted, false);
  } finally {
    await s.close();
  }
});

Deno.test("bad requests get a 4xx naming the problem", opts, async () => {
  const s = await startServer();
  try {
    const api = `${s.url}/sdapi/v1/txt2img`;
    const detail = async (r: Response, status = 422) => {
      assertEquals(r.status, status);
      return (await r.json()).detail;
    };
    let d = await detail(await post(api, "{not json"));
    ok(/JSON decode error/.test(d[0].msg), d[0].msg);
    d = await detail(await post(api, { ...clientPayload(1), steps: "many", width: 63.5 }));
    assertEquals(d.map((e: { loc: string[] }) => e.loc.join(".")), ["body.steps", "body.width"]);
    d = await detail(await post(api, { ...clientPayload(1), width: 63 }));
    assertEquals(d[0].loc, ["body", "width"], "the pipeline's multiple of 8");
    d = await detail(await post(api, { ...clientPayload(1), sampler_name: "Nope" }));
    ok(/unknown sampler "Nope"/.test(d[0].msg));
    const withArgs = (args: unknown[]) => ({
      ...clientPayload(1),
      alwayson_scripts: { "Aesthetic embeddings": { args } },
    });
    d = await detail(await post(api, withArgs([0.9, 3, 0.0001, false, "missing", "", 0.1, false])));
    ok(/Aesthetic imgs embedding "missing" is not one of: None, tiny-demo/.test(d[0].msg), d[0].msg);
    d = await detail(
      await post(api, withArgs([0.9, 3, 0.0001, false, "../embeddings/tiny-demo", "", 0.1, false])),
    );
    ok(/must not contain "\.\."/.test(d[0].msg), d[0].msg);
    d = await detail(await post(api, withArgs([0.9, "many", 0.0001])));
    ok(/args\[1\] \(Aesthetic steps\)/.test(d[0].msg), d[0].msg);
    d = await detail(await post(api, { ...clientPayload(1), alwayson_scripts: { "No such": { args: [] } } }));
    ok(/always-on script "No such" not found/.test(d[0].msg));
    d = await detail(await post(`${s.url}/sdapi/v1/img2img`, { init_images: ["###"] }));
    assertEquals(d[0].loc, ["body", "init_images", 0]);
    d = await detail(await post(`${s.url}/sdapi/v1/options`, { sd_model_checkpoint: "nope" }));
    ok(/unknown model "nope"/.test(d[0].msg));
    // Body size limit.
    const big = await post(api, { ...clientPayload(1), prompt: "x".repeat(40 << 20) });
    assertEquals(big.status, 413);
  } finally {
    await s.close();
  }
});

Deno.test("the read-only endpoints and the OpenAPI document", opts, async () => {
  const s = await startServer();
  try {
    const get = async (p: string) => await (await fetch(`${s.url}${p}`)).json();
    const samplers = await get("/sdapi/v1/samplers");
    ok(samplers.some((x: { name: string }) => x.name === "Euler a"));
    const models = await get("/sdapi/v1/sd-models");
    ok(models.some((m: { model_name: string }) => m.model_name === "tiny-demo"));
    const options = await get("/sdapi/v1/options");
    ok(/^tiny-demo \[[0-9a-f]{10}\]$/.test(options.sd_model_checkpoint), "the title, as A1111 answers");
    assertEquals((await post(`${s.url}/sdapi/v1/options`, { CLIP_stop_at_last_layers: 1 })).status, 200);
    const doc = await get("/openapi.json");
    assertEquals(doc.openapi, "3.1.0");
    ok(doc.paths["/sdapi/v1/txt2img"].post.requestBody);
    ok(
      doc.paths["/sdapi/v1/schedulers"].get && doc.paths["/sdapi/v1/loras"].get,
      "every endpoint is documented",
    );
    const page = await (await fetch(`${s.url}/docs`)).text();
    ok(page.includes("/sdapi/v1/img2img"));
  } finally {
    await s.close();
  }
});

Deno.test("with --api-auth, requests without credentials get 401", opts, async () => {
  const s = await startServer({ auth: "alice:s3cret" });
  try {
    assertEquals(
      (await fetch(`${s.url}/sdapi/v1/samplers`).then(async (r) => (await r.body?.cancel(), r))).status,
      401,
    );
    assertEquals((await fetch(`${s.url}/`).then(async (r) => (await r.body?.cancel(), r))).status, 401);
    const wrong = { authorization: `Basic ${btoa("alice:nope")}` };
    assertEquals(
      (await fetch(`${s.url}/sdapi/v1/samplers`, { headers: wrong }).then(async (
        r,
      ) => (await r.body?.cancel(), r))).status,
      401,
    );
    const right = { authorization: `Basic ${btoa("alice:s3cret")}` };
    const r = await fetch(`${s.url}/sdapi/v1/samplers`, { headers: right });
    assertEquals(r.status, 200);
    await r.body?.cancel();
  } finally {
    await s.close();
  }
});

Deno.test("interrupt reaches the aesthetic optimization between Adam steps", opts, async () => {
  const s = await startServer();
  try {
    // 50 steps (the control's maximum) on a prompt of many distinct 75-token chunks (identical chunks would
    // hit the optimization cache): long enough to be caught mid-optimization.
    const running = post(`${s.url}/sdapi/v1/txt2img`, {
      ...clientPayload(9, 1),
      prompt: Array.from({ length: 1500 }, (_, i) => `w${i}`).join(" "),
      alwayson_scripts: { "Aesthetic embeddings": { args: [0.9, 50, 0.0001, false, "tiny-demo"] } },
    });
    let text = "";
    for (let i = 0; i < 500 && !/Aesthetic optimization/.test(text); i++) {
      text = (await (await fetch(`${s.url}/sdapi/v1/progress`)).json()).textinfo ?? "";
      await new Promise((r) => setTimeout(r, 10));
    }
    ok(/Aesthetic optimization/.test(text), "the optimization was running");
    await post(`${s.url}/sdapi/v1/interrupt`, {});
    const r = await running;
    assertEquals(r.status, 200);
    const body = await r.json();
    const info = JSON.parse(body.info);
    assertEquals([info.interrupted, body.images.length], [true, 0]);
    assertEquals(info.charts, [], "the optimization did not finish (it charts its similarity when it does)");
    const next = await post(`${s.url}/sdapi/v1/txt2img`, { ...clientPayload(8, 1), alwayson_scripts: {} });
    assertEquals(next.status, 200, "the queue is free again");
    await next.body?.cancel();
  } finally {
    await s.close();
  }
});
