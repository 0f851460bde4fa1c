// The aesthetic-gradients extension, written against lib/extensions/adapter.ts with the A1111 extension's controls,
// defaults, alwayson_scripts args order and infotext fields. Its process() personalizes every prompt's
// conditioning through an AestheticSession (lib/personalize/aesthetic_session.ts, the seam the CLIs use too;
// one run serves every step count of an X/Y sweep) and records the similarity at each optimization step for the
// chart; its tab makes a new embedding from a folder of images.
import type { Hono } from "hono";
import { z } from "zod";
import { type EmbeddingInfo, listEmbeddings, readEmbedding } from "../lib/io/embedding.ts";
import { InputError } from "../lib/io/input_error.ts";
import type { SessionOptions } from "../lib/onnx/session.ts";
import { AESTHETIC_DEFAULTS, type AestheticSettings } from "../lib/personalize/aesthetic.ts";
import {
  aestheticIsOff,
  type AestheticSession,
  AestheticSessionCache,
  type AestheticSessionOptions,
} from "../lib/personalize/aesthetic_session.ts";
import type { Job } from "../lib/extensions/job.ts";
import { EmbeddingMaker } from "../lib/server/embedding_maker.ts";
import { pathIn } from "../lib/io/safe_name.ts";
import type { Extension, Values } from "../lib/extensions/adapter.ts";

export const AESTHETIC_TITLE = "Aesthetic embeddings";
export const NO_EMBEDDING = "None";
/** The X/Y axis over the optimization steps (the control's label, as A1111 names axes). */
const STEPS_AXIS = "Aesthetic steps";

export interface AestheticExtensionOptions {
  embeddingsDir: string;
  /** The CLIP pair new embeddings are made with. */
  clipDir: () => string;
  /** Errors of the embedding tab may name what is wrong with a server path (only when authenticated). */
  revealPaths?: boolean;
  /** onnxruntime options of the personalization sessions. */
  session?: SessionOptions;
  /** Opens (or reuses) the aesthetic session for a job; default: one kept while jobs use the same one. */
  openSession?: (opts: AestheticSessionOptions) => Promise<AestheticSession>;
}

/** Values of this extension, typed: the engine's settings and the embedding's listed name. */
export type AestheticValues = AestheticSettings & { embedding: string };

export function aestheticValues(v: Values): AestheticValues {
  return {
    weight: Number(v.weight),
    steps: Number(v.steps),
    lr: Number(v.lr),
    slerp: Boolean(v.slerp),
    embedding: String(v.embedding),
    text: String(v.text),
    slerpAngle: Number(v.slerpAngle),
    textNegative: Boolean(v.textNegative),
  };
}

/** Finds an embedding by its listed name (names come from requests: confined to the folder). */
export async function findEmbedding(dir: string, name: string): Promise<EmbeddingInfo> {
  pathIn(dir, name, "aesthetic embedding name");
  const { embeddings } = await listEmbeddings(dir);
  const found = embeddings.find((e) => e.name === name);
  if (!found) throw new InputError(`unknown aesthetic embedding ${JSON.stringify(name)}`, "embedding");
  return found;
}

export function aestheticExtension(opts: AestheticExtensionOptions): Extension {
  const names =
    async () => [NO_EMBEDDING, ...(await listEmbeddings(opts.embeddingsDir)).embeddings.map((e) => e.name)];
  const maker = new EmbeddingMaker(opts.embeddingsDir, opts.revealPaths ?? true);
  const sessions = new AestheticSessionCache();
  const open = opts.openSession ?? ((o: AestheticSessionOptions) => sessions.get(o));
  const d = AESTHETIC_DEFAULTS;
  return {
    id: "aesthetic",
    title: AESTHETIC_TITLE,
    controls: [
      {
        kind: "slider",
        id: "weight",
        label: "Aesthetic weight",
        min: 0,
        max: 1,
        step: 0.01,
        value: d.weight,
      },
      { kind: "slider", id: "steps", label: "Aesthetic steps", min: 0, max: 50, step: 1, value: d.steps },
      { kind: "number", id: "lr", label: "Aesthetic learning rate", min: 0, max: 1, value: d.lr },
      { kind: "checkbox", id: "slerp", label: "Slerp interpolation", value: d.slerp },
      {
        kind: "dropdown",
        id: "embedding",
        label: "Aesthetic imgs embedding",
        value: NO_EMBEDDING,
        choices: names,
        refresh: true,
        check: (v) => {
          if (v !== NO_EMBEDDING) pathIn(opts.embeddingsDir, v, "aesthetic embedding name");
        },
      },
      {
        kind: "text",
        id: "text",
        label: "Aesthetic text for imgs",
        value: d.text,
        maxLength: 1000,
        placeholder: "This text is used to rotate the feature space of the imgs embs",
      },
      {
        kind: "slider",
        id: "slerpAngle",
        label: "Slerp angle",
        min: 0,
        max: 1,
        step: 0.01,
        value: d.slerpAngle,
      },
      { kind: "checkbox", id: "textNegative", label: "Is negative text", value: d.textNegative },
    ],
    // The order of the A1111 extension's ui() return value, which alwayson_scripts args follow.
    args: ["weight", "steps", "lr", "slerp", "embedding", "text", "slerpAngle", "textNegative"],
    infotextFields: [
      { key: "Aesthetic LR", control: "lr" },
      { key: "Aesthetic weight", control: "weight" },
      { key: "Aesthetic steps", control: "steps" },
      { key: "Aesthetic embedding", control: "embedding" },
      { key: "Aesthetic slerp", control: "slerp" },
      { key: "Aesthetic text", control: "text" },
      { key: "Aesthetic text negative", control: "textNegative" },
      { key: "Aesthetic slerp angle", control: "slerpAngle" },
    ],
    axes: [{ label: STEPS_AXIS, control: "steps", example: "0,2,5,10,20" }],
    process: (job, values) => process(opts, open, job, aestheticValues(values)),
    close: () => sessions.release(),
    tabs: [{
      id: "aesthetic-embedding",
      title: "Create aesthetic embedding",
      island: { name: "EmbeddingTab", props: (ctx) => ({ base: ctx.base }) },
      routes: (app, _ctx) => embeddingRoutes(app, maker, opts),
    }],
  };
}

async function process(
  opts: AestheticExtensionOptions,
  open: (o: AestheticSessionOptions) => Promise<AestheticSession>,
  job: Job,
  v: AestheticValues,
): Promise<void> {
  // "None" is the dropdown's off position; the session owns the other off-switches (zero steps, lr, weight).
  if (v.embedding === NO_EMBEDDING) return;
  const settings = { ...AESTHETIC_DEFAULTS, ...v };
  if (aestheticIsOff(settings)) return;
  const info = await findEmbedding(opts.embeddingsDir, v.embedding);
  const session = await open({
    modelDir: job.model.dir,
    clipDir: job.model.clipDir,
    clipSkip: job.request.clipSkip,
    session: opts.session,
  });
  // An X/Y sweep over the steps shares one optimization run: ask for every value each time (then cached).
  const sweep = job.sweep?.axis === STEPS_AXIS ? job.sweep.values : [];
  let charted = false;
  const aesthetic = session.hook({ name: v.embedding, embedding: await readEmbedding(info.path) }, settings, {
    sweep,
    onStatus: (text) => job.status(text),
    shouldStop: () => job.stopRequested(),
    onSimilarity: (similarity) => {
      if (charted || similarity.length === 0) return;
      charted = true;
      job.charts.push({
        title: `Aesthetic similarity (${v.embedding})`,
        xLabel: "optimization step",
        yLabel: "cos(text, embedding)",
        series: similarity.map((values, i) => ({ label: `chunk ${i + 1}`, values })),
      });
    },
  });
  if (!aesthetic) return;
  job.conditioningHooks.push(aesthetic.hook);
  job.extraParams.push(...aesthetic.params);
}

const CreateBody = z.object({
  name: z.string().min(1, "give the embedding a name"),
  source: z.string().min(1, "give the folder of source images"),
  batchSize: z.number().int().min(1).max(256).default(32),
  overwrite: z.boolean().default(false),
});

function embeddingRoutes(app: Hono, maker: EmbeddingMaker, opts: AestheticExtensionOptions): void {
  app.post("/create", async (c) => {
    const body = CreateBody.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) {
      return c.json({ error: "invalid request", detail: z.flattenError(body.error).fieldErrors }, 422);
    }
    try {
      maker.start({ ...body.data, clipDir: opts.clipDir() });
    } catch (e) {
      return c.json({ error: (e as Error).message }, maker.busy ? 409 : 422);
    }
    return c.json(maker.status(), 202);
  });
  app.get("/create", (c) => c.json(maker.status()));
}
