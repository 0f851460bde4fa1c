// The aesthetic-gradients extension, written against lib/extensions/adapter.ts with the A1111 extension's controls,
// defaults, alwayson_scripts args order and infotext fields. Its process() personalizes every prompt's
// conditioning through an AestheticSession (lib/personalize/aesthetic_session.ts, the seam the CLIs use too;
// one run serves every step count of an X/Y sweep) and records the similarity at each optimization step for the
// chart; its tab makes a new embedding from a folder of images.
import type { Context, Hono } from "hono";
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
import type { Job, JobAttachments } from "../lib/extensions/job.ts";
import { EmbeddingMaker, type RemoteEmbedder, type UploadedFile } from "../lib/server/embedding_maker.ts";
import { pathIn } from "../lib/io/safe_name.ts";
import type { Control, Extension, Values } from "../lib/extensions/adapter.ts";

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
  /** Makes the tab's embeddings on queue workers (serve --queue); default: here. */
  remoteEmbedder?: RemoteEmbedder;
  /** Opens (or reuses) the aesthetic session for a job; default: one kept while jobs use the same one. */
  openSession?: (opts: AestheticSessionOptions) => Promise<AestheticSession>;
}

/** Values of this extension, typed: the engine's settings and the embedding's listed name. */
export type AestheticValues = AestheticSettings & { embedding: string; embedding2: string };

export function aestheticValues(v: Values): AestheticValues {
  return {
    weight: Number(v.weight),
    steps: Number(v.steps),
    lr: Number(v.lr),
    slerp: Boolean(v.slerp),
    embedding: String(v.embedding),
    embedding2: String(v.embedding2),
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
  const maker = new EmbeddingMaker(opts.embeddingsDir, opts.revealPaths ?? true, opts.remoteEmbedder);
  const sessions = new AestheticSessionCache();
  const open = opts.openSession ?? ((o: AestheticSessionOptions) => sessions.get(o));
  const d = AESTHETIC_DEFAULTS;
  const embeddingChoice = (id: string, label: string): Control => ({
    kind: "dropdown",
    id,
    label,
    value: NO_EMBEDDING,
    choices: names,
    refresh: true,
    check: (v) => {
      if (v !== NO_EMBEDDING) pathIn(opts.embeddingsDir, v, "aesthetic embedding name");
    },
  });
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
      embeddingChoice("embedding", "Aesthetic imgs embedding"),
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
      // SDXL has two text encoders; each embedding personalizes the one of its width (768: the first, 1280:
      // the second), so two embeddings personalize both.
      embeddingChoice("embedding2", "Second imgs embedding (SDXL: for the other text encoder)"),
    ],
    // The order of the A1111 extension's ui() return value, which alwayson_scripts args follow; our SDXL
    // second embedding comes last, so A1111 clients' eight args mean what they meant.
    args: ["weight", "steps", "lr", "slerp", "embedding", "text", "slerpAngle", "textNegative", "embedding2"],
    infotextFields: [
      { key: "Aesthetic LR", control: "lr" },
      { key: "Aesthetic weight", control: "weight" },
      { key: "Aesthetic steps", control: "steps" },
      { key: "Aesthetic embedding", control: "embedding" },
      { key: "Aesthetic slerp", control: "slerp" },
      { key: "Aesthetic text", control: "text" },
      { key: "Aesthetic text negative", control: "textNegative" },
      { key: "Aesthetic slerp angle", control: "slerpAngle" },
      { key: "Aesthetic embedding 2", control: "embedding2" },
    ],
    // The X/Y/Z plot's axes over this extension's controls (A1111's extension declares none; these follow its
    // labels). Each value is checked by its control, embeddings against the current list.
    axes: [
      { label: STEPS_AXIS, control: "steps", example: "0,2,5,10,20" },
      { label: "Aesthetic learning rate", control: "lr", example: "0.0001, 0.0005, 0.001" },
      { label: "Aesthetic weight", control: "weight", example: "0-1 [5]" },
      { label: "Aesthetic embedding", control: "embedding", example: "None, sunsets" },
      { label: "Aesthetic text", control: "text", example: "a sunset, a forest" },
      { label: "Slerp angle", control: "slerpAngle", example: "0-0.2 (+0.1)" },
      { label: "Slerp interpolation", control: "slerp", example: "False, True" },
    ],
    process: (job, values) => process(opts, open, job, aestheticValues(values)),
    // A queued job carries its embeddings' vectors, so workers need no copy of the embeddings folder.
    attach: async (values) => {
      const out: JobAttachments = {};
      for (const name of chosen(aestheticValues(values))) {
        const e = await readEmbedding((await findEmbedding(opts.embeddingsDir, name)).path);
        out[name] = { shape: e.shape, data: e.data };
      }
      return out;
    },
    close: () => sessions.release(),
    tabs: [{
      id: "aesthetic-embedding",
      title: "Create aesthetic embedding",
      island: { name: "EmbeddingTab", props: (ctx) => ({ base: ctx.base }) },
      routes: (app, _ctx) => embeddingRoutes(app, maker, opts),
    }],
  };
}

/**
 * The embeddings a job uses: none when a dropdown is at "None" (their off position) or the settings switch
 * personalization off (zero steps, lr or weight; the session owns those rules).
 */
function chosen(v: AestheticValues): string[] {
  if (aestheticIsOff({ ...AESTHETIC_DEFAULTS, ...v })) return [];
  return [v.embedding, v.embedding2].filter((n) => n !== NO_EMBEDDING);
}

async function process(
  opts: AestheticExtensionOptions,
  open: (o: AestheticSessionOptions) => Promise<AestheticSession>,
  job: Job,
  v: AestheticValues,
): Promise<void> {
  const names = chosen(v);
  if (names.length === 0) return;
  const settings = { ...AESTHETIC_DEFAULTS, ...v };
  const embeddings = [];
  for (const name of names) {
    const carried = job.attachments?.aesthetic?.[name];
    const embedding = carried
      ? { ...carried, dtype: "float32" as const, format: "pt" as const }
      : await readEmbedding((await findEmbedding(opts.embeddingsDir, name)).path);
    embeddings.push({ name, embedding });
  }
  const session = await open({
    modelDir: job.model.dir,
    clipDir: job.model.clipDir,
    clipSkip: job.request.clipSkip,
    session: opts.session,
  });
  // An X/Y sweep over the steps shares one optimization run: ask for every value each time (then cached).
  const sweep = job.sweeps?.find((s) => s.axis === STEPS_AXIS)?.values ?? [];
  let charted = false;
  const aesthetic = session.hook(embeddings, settings, {
    sweep,
    onStatus: (text) => job.status(text),
    shouldStop: () => job.stopRequested(),
    onSimilarity: (similarity) => {
      if (charted || similarity.length === 0) return;
      charted = true;
      job.charts.push({
        title: `Aesthetic similarity (${names.join(", ")})`,
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
  source: z.string().optional(),
  batchSize: z.coerce.number().int().min(1).max(256).default(32),
  overwrite: z.preprocess((v) => v === "true" || v === true, z.boolean()).default(false),
});

/**
 * The tab's request: JSON naming a folder on the server, or a multipart form whose `files` are the images
 * (a folder upload names each by its relative path).
 */
async function createRequest(c: Context): Promise<{ body: unknown; uploads?: UploadedFile[] }> {
  if (!(c.req.header("content-type") ?? "").startsWith("multipart/form-data")) {
    return { body: await c.req.json().catch(() => undefined) };
  }
  const form = await c.req.parseBody({ all: true });
  const files = [form.files ?? []].flat().filter((f): f is File => f instanceof File);
  const uploads = await Promise.all(
    files.map(async (f) => ({ name: f.name, data: new Uint8Array(await f.arrayBuffer()) })),
  );
  const { files: _files, ...fields } = form;
  return { body: fields, uploads };
}

function embeddingRoutes(app: Hono, maker: EmbeddingMaker, opts: AestheticExtensionOptions): void {
  app.post("/create", async (c) => {
    const { body: raw, uploads } = await createRequest(c);
    const body = CreateBody.safeParse(raw);
    if (!body.success) {
      return c.json({ error: "invalid request", detail: z.flattenError(body.error).fieldErrors }, 422);
    }
    try {
      maker.start({ ...body.data, uploads, clipDir: opts.clipDir() });
    } catch (e) {
      return c.json({ error: (e as Error).message }, maker.busy ? 409 : 422);
    }
    return c.json(maker.status(), 202);
  });
  app.get("/create", (c) => c.json(maker.status()));
}
