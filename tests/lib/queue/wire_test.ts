// A job and its result survive the trip through BullMQ's JSON: bytes, vectors and every field come back equal.
import { deepStrictEqual as assertEquals, notStrictEqual } from "node:assert";
import type { Extension } from "../../../lib/extensions/adapter.ts";
import {
  decodeEmbedJob,
  decodeJob,
  decodeMade,
  decodeOutput,
  encodeEmbedJob,
  encodeJob,
  encodeMade,
  encodeOutput,
  queueName,
} from "../../../lib/queue/wire.ts";
import type { EmbedFiles, MadeEmbedding } from "../../../lib/server/embedding_maker.ts";
import type { GenerationInput, GenerationOutput } from "../../../lib/server/service.ts";
import type { ModelEntry } from "../../../lib/models/inspect.ts";

const roundTrip = <T>(v: T): T => JSON.parse(JSON.stringify(v));

Deno.test("a job's request, init image, mask and embedding vectors round-trip through JSON", () => {
  const ext = { id: "aesthetic" } as Extension;
  const input: GenerationInput = {
    mode: "img2img",
    request: {
      prompt: "p",
      negativePrompt: "",
      batchSize: 1,
      batchCount: 1,
      seed: 7,
      steps: 2,
      width: 64,
      height: 64,
      sampler: "Euler a",
      cfgScale: 7,
      model: "tiny-demo",
      initImage: new Uint8Array([1, 2, 3, 255]),
      mask: new Uint8Array([9]),
    },
    scripts: [[ext, { embedding: "sunsets", steps: 5 }]],
    plot: {
      x: { label: "Aesthetic steps", text: "0,2", values: [0, 2], named: true, fixed: false },
      y: { label: "Sampler", text: "Euler, LMS", values: ["Euler", "LMS"], named: false, fixed: false },
      z: { label: "Nothing", text: "", values: [""], named: false, fixed: false },
      drawLegend: true,
      includeLoneImages: true,
      includeSubGrids: false,
      noFixedSeeds: false,
    },
  };
  const vector = new Float32Array([0.5, -1.25, 3e-8]);
  const wire = roundTrip(
    encodeJob(input, "tiny-demo", { aesthetic: { sunsets: { shape: [1, 3], data: vector } } }),
  );
  assertEquals(wire.scripts, [["aesthetic", { embedding: "sunsets", steps: 5 }]]);
  const back = decodeJob(wire);
  assertEquals(back.request, input.request);
  assertEquals(back.plot, input.plot);
  assertEquals(back.attachments, { aesthetic: { sunsets: { shape: [1, 3], data: vector } } });
});

Deno.test("a result's PNG bytes round-trip; the server's own fields stay behind", () => {
  const out: GenerationOutput = {
    images: [new Uint8Array([137, 80, 78, 71])],
    infotexts: ["p\nSteps: 2"],
    seeds: [7],
    subseeds: [8],
    labels: [],
    charts: [],
    extraParams: { Eta: 0.5 },
    model: { name: "tiny-demo" } as ModelEntry,
    interrupted: false,
    stepsDone: 2,
    queueId: 3,
    hasGrid: false,
    jobTimestamp: "20261201000000",
  };
  const { model: _m, queueId: _q, ...rest } = out;
  assertEquals(decodeOutput(roundTrip(encodeOutput(out))), rest);
});

Deno.test("one queue per model, named safely and apart", () => {
  assertEquals(/^gen-[\w.-]+$/.test(queueName("sd 1.5/v1:ema")), true);
  notStrictEqual(queueName("a/b"), queueName("a_b"));
});

Deno.test("an embedding job's images (as bytes, or as the URLs they were put at) and its vector round-trip", async () => {
  const job: EmbedFiles = {
    files: [{ name: "set/a.png", data: new Uint8Array([1, 2, 3]) }, {
      name: "b.jpg",
      data: new Uint8Array(),
    }],
    batchSize: 4,
    label: "the uploaded files",
  };
  const unread = () => Promise.reject(new Error("nothing to read"));
  const wire = roundTrip(encodeEmbedJob("tiny-demo", job));
  assertEquals(wire.model, "tiny-demo");
  assertEquals(await decodeEmbedJob(wire, unread), job);
  const urls = ["s3://b/inputs/j/0", "s3://b/inputs/j/1"];
  const byUrl = roundTrip(encodeEmbedJob("tiny-demo", job, urls));
  assertEquals(byUrl.files, [{ name: "set/a.png", url: urls[0] }, { name: "b.jpg", url: urls[1] }]);
  const stored = new Map(urls.map((u, i) => [u, job.files[i].data]));
  assertEquals(await decodeEmbedJob(byUrl, (u) => Promise.resolve(stored.get(u)!)), job);
  const made: MadeEmbedding = {
    embedding: new Float32Array([0.25, -1.5, 3e-8]),
    dim: 3,
    used: 2,
    skipped: [{ file: "c.txt", reason: "not an image file (by its extension)" }],
    quality: { images: [{ file: "set/a.png", cosine: 0.9, outlier: false }], meanCosine: 0.9, outliers: 0 },
    sourceModel: "tiny-demo-clip",
  };
  assertEquals(decodeMade(roundTrip(encodeMade(made))), made);
});
