import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert";
import { join } from "node:path";
import { Hono } from "hono";
import { SOURCE_UNUSABLE } from "../../lib/server/embedding_maker.ts";
import {
  checkChoices,
  defaultValues,
  valuesFromArgs,
  valuesFromInfotext,
} from "../../lib/extensions/adapter.ts";
import { AESTHETIC_TITLE, aestheticExtension, NO_EMBEDDING } from "../../extension/aesthetic.ts";
import { promptChunks } from "../../lib/clip/chunks.ts";
import { asHooked } from "../../lib/clip/conditioning_hook.ts";
import { ClipTextEncoder } from "../../lib/clip/text_encoder.ts";
import { ClipTokenizer } from "../../lib/clip/tokenizer.ts";
import { formatInfotext, parseInfotext } from "../../lib/io/infotext.ts";
import { EMBEDDINGS_DIR, TINY_DEMO_CLIP_DIR, TINY_DEMO_MODEL_DIR } from "../../lib/models/defaults.ts";
import { AestheticSession } from "../../lib/personalize/aesthetic_session.ts";
import type { ConditioningHook, Job } from "../../lib/extensions/job.ts";
import { FIXTURES } from "../fixtures.ts";
import { jobRequest } from "../job_request.ts";

const REQUEST = jobRequest();

function job(sweep?: { axis: string; values: number[] }) {
  const hooks: ConditioningHook[] = [];
  const j: Job = {
    mode: "txt2img",
    request: REQUEST,
    model: { name: "tiny-demo", dir: TINY_DEMO_MODEL_DIR, clipDir: TINY_DEMO_CLIP_DIR },
    conditioningHooks: hooks,
    extraParams: [],
    charts: [],
    sweeps: sweep && [sweep],
    status: () => {},
    stopRequested: () => false,
  };
  return j;
}

async function setup() {
  const tokenizer = await ClipTokenizer.load(TINY_DEMO_MODEL_DIR);
  const session = await AestheticSession.open({ modelDir: TINY_DEMO_MODEL_DIR, clipDir: TINY_DEMO_CLIP_DIR });
  const personalizer = session.personalizer!;
  const ext = aestheticExtension({
    embeddingsDir: EMBEDDINGS_DIR,
    openSession: () => Promise.resolve(session),
    clipDir: () => TINY_DEMO_CLIP_DIR,
  });
  const encoder = await ClipTextEncoder.open(TINY_DEMO_MODEL_DIR);
  const { chunks } = promptChunks(REQUEST.prompt, tokenizer);
  const z = await encoder.chunkEncoder("last")(chunks[0].ids);
  return { ext, personalizer, z, chunkIds: chunks.map((c) => c.ids) };
}

Deno.test("the A1111 extension's title, defaults and alwayson_scripts args order", () => {
  const ext = aestheticExtension({
    embeddingsDir: EMBEDDINGS_DIR,
    openSession: () => Promise.reject(new Error("unused")),
    clipDir: () => TINY_DEMO_CLIP_DIR,
  });
  assertEquals(ext.title, "Aesthetic embeddings");
  assertEquals(defaultValues(ext), {
    weight: 0.9,
    steps: 5,
    lr: 0.0001,
    slerp: false,
    embedding: NO_EMBEDDING,
    text: "",
    slerpAngle: 0.1,
    textNegative: false,
    embedding2: NO_EMBEDDING,
  });
  // A1111's eight args; our ninth (SDXL's second embedding) keeps its default when absent.
  assertEquals(
    valuesFromArgs(ext, [0.5, 3, 0.001, true, "tiny-demo", "sunset", 0.2, true]),
    {
      weight: 0.5,
      steps: 3,
      lr: 0.001,
      slerp: true,
      embedding: "tiny-demo",
      text: "sunset",
      slerpAngle: 0.2,
      textNegative: true,
      embedding2: NO_EMBEDDING,
    },
  );
  assertEquals(
    valuesFromArgs(ext, [0.5, 3, 0.001, true, "tiny-demo", "", 0.2, true, "tiny-demo"]).embedding2,
    "tiny-demo",
  );
});

Deno.test("embedding names: listed ones pass, unknown and escaping ones are refused", async () => {
  const ext = aestheticExtension({
    embeddingsDir: EMBEDDINGS_DIR,
    openSession: () => Promise.reject(new Error("unused")),
    clipDir: () => TINY_DEMO_CLIP_DIR,
  });
  await checkChoices(ext, { ...defaultValues(ext), embedding: "tiny-demo" });
  await rejects(
    checkChoices(ext, { ...defaultValues(ext), embedding: "nope" }),
    /"nope" is not one of: None, neon, pastel, sepia, tiny-demo/,
  );
  await rejects(
    checkChoices(ext, { ...defaultValues(ext), embedding: "../embeddings/tiny-demo" }),
    /must not contain "\.\."/,
  );
  await rejects(checkChoices(ext, { ...defaultValues(ext), embedding: "/etc/passwd" }), /absolute path/);
});

Deno.test("process personalizes the conditioning, charts the similarity and writes the infotext fields", async () => {
  const { ext, personalizer, z, chunkIds } = await setup();
  try {
    const none = job();
    await ext.process(none, defaultValues(ext));
    assertEquals([none.conditioningHooks.length, none.extraParams.length], [0, 0], "no embedding: nothing");

    const j = job();
    const values = { ...defaultValues(ext), embedding: "tiny-demo", steps: 3, lr: 0.01 };
    await ext.process(j, values);
    assertEquals(j.conditioningHooks.length, 1);
    const out = asHooked(await j.conditioningHooks[0]({ z, chunkIds, negative: false })).z;
    assertEquals(out.length, z.length);
    ok(out.some((v, i) => Math.abs(v - z[i]) > 1e-6), "the conditioning moved");
    assertEquals(j.charts.length, 1);
    assertEquals(j.charts[0].series[0].values.length, 4, "before each of 3 steps and after the last");
    const s = j.charts[0].series[0].values;
    ok(s[3] > s[0], `similarity rises: ${s}`);

    // The infotext fields read back into the same control values.
    const text = formatInfotext({ prompt: REQUEST.prompt, params: [["Steps", 2], ...j.extraParams] });
    assertEquals(j.extraParams.map(([k]) => k).slice(0, 2), ["Aesthetic LR", "Aesthetic weight"]);
    assertEquals(valuesFromInfotext(ext, new Map(parseInfotext(text).params)), values);
  } finally {
    await personalizer.release();
  }
});

Deno.test("an X/Y sweep over aesthetic steps shares one optimization run", async () => {
  const { ext, personalizer, z, chunkIds } = await setup();
  try {
    const sweep = { axis: "Aesthetic steps", values: [0, 2, 5] };
    const outs: Float32Array[] = [];
    for (const steps of sweep.values) {
      const j = job(sweep);
      await ext.process(j, { ...defaultValues(ext), embedding: "tiny-demo", steps, lr: 0.01 });
      if (steps === 0) {
        assertEquals(j.conditioningHooks.length, 0, "0 steps: the extension stays out of the way");
        outs.push(z);
        continue;
      }
      outs.push(asHooked(await j.conditioningHooks[0]({ z, chunkIds, negative: false })).z);
    }
    assertEquals(personalizer.cacheSize, 1, "one run served every step count");
    ok(outs[1].some((v, i) => v !== outs[2][i]), "2 and 5 steps differ");
  } finally {
    await personalizer.release();
  }
});

Deno.test("the tab makes an embedding from a folder, with progress, and refuses bad names", async () => {
  const dir = await Deno.makeTempDir();
  const src = await Deno.makeTempDir();
  try {
    for (const f of ["rgb.png", "rgb.jpg", "gray.png"]) {
      await Deno.copyFile(join(FIXTURES, "images", f), join(src, f));
    }
    const ext = aestheticExtension({
      embeddingsDir: dir,
      openSession: () => Promise.reject(new Error("unused")),
      clipDir: () => TINY_DEMO_CLIP_DIR,
    });
    const app = new Hono();
    ext.tabs![0].routes!(app, { base: "" });
    const post = (body: unknown) =>
      app.request("/create", {
        method: "POST",
        body: JSON.stringify(body),
        headers: { "content-type": "application/json" },
      });

    let r = await post({ name: "../x", source: src });
    assertEquals(r.status, 422);
    ok((await r.json()).error.includes('must not contain ".."'));
    r = await post({ name: "x", source: join(src, "missing") });
    assertEquals([r.status, (await r.json()).error], [
      422,
      `source folder ${join(src, "missing")} does not exist`,
    ]);
    r = await post({ name: "", source: src });
    assertEquals(r.status, 422);

    r = await post({ name: "mine", source: src, batchSize: 2 });
    assertEquals(r.status, 202);
    let status = await r.json();
    // Polled until done (bounded at two minutes: a busy machine makes the tiny model slow, not wrong).
    for (const end = Date.now() + 120_000; status.running && Date.now() < end;) {
      await new Promise((res) => setTimeout(res, 50));
      status = await (await app.request("/create")).json();
    }
    assertEquals([status.running, status.ok, status.name], [false, true, "mine"]);
    ok(/Created mine from 3 images/.test(status.message), status.message);
    assertEquals(status.progress.total, 3);
    const choices = await (ext.controls.find((c) =>
      c.id === "embedding"
    ) as { choices: () => Promise<string[]> })
      .choices();
    assertEquals(choices, [NO_EMBEDDING, "mine"]);

    r = await post({ name: "mine", source: src });
    assertEquals(r.status, 422);
    ok((await r.json()).error.includes("already exists"));
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(src, { recursive: true });
  }
});

Deno.test("without authentication the tab's errors do not tell which server paths exist", async () => {
  const src = await Deno.makeTempDir();
  const file = join(src, "file.txt");
  await Deno.writeTextFile(file, "x");
  try {
    const ext = aestheticExtension({
      embeddingsDir: await Deno.makeTempDir(),
      openSession: () => Promise.reject(new Error("unused")),
      clipDir: () => TINY_DEMO_CLIP_DIR,
      revealPaths: false,
    });
    const app = new Hono();
    ext.tabs![0].routes!(app, { base: "" });
    const answers = [];
    for (const source of [join(src, "missing"), file, "/etc"]) {
      const r = await app.request("/create", {
        method: "POST",
        body: JSON.stringify({ name: "x", source }),
        headers: { "content-type": "application/json" },
      });
      if (r.status === 202) {
        let status = await r.json();
        // Polled until done (bounded at two minutes: a busy machine makes the tiny model slow, not wrong).
        for (const end = Date.now() + 120_000; status.running && Date.now() < end;) {
          await new Promise((res) => setTimeout(res, 50));
          status = await (await app.request("/create")).json();
        }
        answers.push(status.message.replace(/^Failed: /, ""));
      } else answers.push((await r.json()).error);
    }
    assertEquals(answers, [SOURCE_UNUSABLE, SOURCE_UNUSABLE, SOURCE_UNUSABLE]);
  } finally {
    await Deno.remove(src, { recursive: true });
  }
});

Deno.test("title constant matches what clients send in alwayson_scripts", () => {
  assertEquals(AESTHETIC_TITLE, "Aesthetic embeddings");
});
