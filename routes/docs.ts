// OpenAPI 3.1 for /sdapi/v1, generated from the zod schemas (z.toJSONSchema), and a readable page of it.
import { Hono } from "hono";
import { z } from "zod";
import {
  ErrorResponse,
  GenerationResponse,
  Img2ImgRequest,
  Options,
  OptionsUpdate,
  PngInfoRequest,
  PngInfoResponse,
  ProgressResponse,
  SamplerItem,
  SDModelItem,
  Txt2ImgRequest,
  ValidationError,
} from "./schemas.ts";

interface Op {
  method: "get" | "post";
  path: string;
  summary: string;
  body?: z.ZodType;
  response?: z.ZodType;
}

const OPS: Op[] = [
  {
    method: "post",
    path: "/sdapi/v1/txt2img",
    summary: "Text to image",
    body: Txt2ImgRequest,
    response: GenerationResponse,
  },
  {
    method: "post",
    path: "/sdapi/v1/img2img",
    summary: "Image to image",
    body: Img2ImgRequest,
    response: GenerationResponse,
  },
  {
    method: "get",
    path: "/sdapi/v1/progress",
    summary: "Progress of the running job, or of one job with ?id_task= (its place while it waits)",
    response: ProgressResponse,
  },
  { method: "post", path: "/sdapi/v1/interrupt", summary: "Stop the running job at the next step" },
  { method: "post", path: "/sdapi/v1/skip", summary: "Skip the current image at the next step" },
  { method: "get", path: "/sdapi/v1/samplers", summary: "Samplers", response: z.array(SamplerItem) },
  {
    method: "get",
    path: "/sdapi/v1/sd-models",
    summary: "Stable Diffusion models",
    response: z.array(SDModelItem),
  },
  { method: "post", path: "/sdapi/v1/refresh-checkpoints", summary: "Rescan the models folder" },
  { method: "get", path: "/sdapi/v1/options", summary: "Settings", response: Options },
  { method: "post", path: "/sdapi/v1/options", summary: "Change settings", body: OptionsUpdate },
  { method: "get", path: "/sdapi/v1/schedulers", summary: "Schedule types" },
  { method: "get", path: "/sdapi/v1/cmd-flags", summary: "The server's flags under A1111's names" },
  { method: "get", path: "/sdapi/v1/scripts", summary: "Scripts (the extensions) for txt2img and img2img" },
  { method: "get", path: "/sdapi/v1/script-info", summary: "Each extension's args, from its controls" },
  { method: "get", path: "/sdapi/v1/prompt-styles", summary: "Prompt styles from styles.csv" },
  { method: "post", path: "/sdapi/v1/refresh-styles", summary: "Reread styles.csv" },
  { method: "get", path: "/sdapi/v1/embeddings", summary: "Textual-inversion embeddings (none here)" },
  { method: "post", path: "/sdapi/v1/refresh-embeddings", summary: "No-op (no textual inversion)" },
  { method: "get", path: "/sdapi/v1/memory", summary: "RAM use" },
  ...[
    "sd-vae",
    "sd-modules",
    "loras",
    "hypernetworks",
    "upscalers",
    "latent-upscale-modes",
    "face-restorers",
    "realesrgan-models",
    "extensions",
  ].map((p): Op => ({ method: "get", path: `/sdapi/v1/${p}`, summary: "Empty: not offered here" })),
  {
    method: "post",
    path: "/sdapi/v1/png-info",
    summary: "Read a PNG's infotext",
    body: PngInfoRequest,
    response: PngInfoResponse,
  },
];

function schema(s: z.ZodType, io: "input" | "output") {
  const json = z.toJSONSchema(s, { io, target: "draft-2020-12", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json;
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPS) {
    const responses: Record<string, unknown> = {
      "200": {
        description: "OK",
        content: {
          "application/json": { schema: op.response ? schema(op.response, "output") : { type: "object" } },
        },
      },
    };
    if (op.body) {
      responses["422"] = {
        description: "Validation error",
        content: { "application/json": { schema: schema(ValidationError, "output") } },
      };
    }
    if (op.path.endsWith("2img")) {
      responses["500"] = {
        description: "Generation failed",
        content: { "application/json": { schema: schema(ErrorResponse, "output") } },
      };
    }
    paths[op.path] = {
      ...paths[op.path],
      [op.method]: {
        summary: op.summary,
        ...(op.body
          ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: schema(op.body, "input") } },
            },
          }
          : {}),
        responses,
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "aesthetic-gradients API",
      version: "1.0.0",
      description: "AUTOMATIC1111-compatible /sdapi/v1. The aesthetic extension is driven by " +
        'alwayson_scripts: {"Aesthetic embeddings": {"args": [weight, steps, lr, slerp, embedding, text, ' +
        "slerp_angle, text_negative]}}.",
    },
    paths,
  };
}

const PAGE_STYLE =
  "body{font:14px system-ui,sans-serif;max-width:980px;margin:24px auto;padding:0 16px;color:#111}" +
  "h2{border-bottom:1px solid #ddd;padding-bottom:4px}code,pre{background:#f4f4f5;border-radius:4px}" +
  "pre{padding:8px;overflow:auto;max-height:420px}.m{display:inline-block;width:52px;font-weight:700}";

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

export function docsRoutes(): Hono {
  const app = new Hono();
  const doc = openApiDocument();
  app.get("/openapi.json", (c) => c.json(doc));
  app.get("/docs", (c) => {
    const items = OPS.map((op) => {
      const body = op.body
        ? `<details><summary>Request body</summary><pre>${
          esc(JSON.stringify(schema(op.body, "input"), null, 2))
        }</pre></details>`
        : "";
      const res = op.response
        ? `<details><summary>Response</summary><pre>${
          esc(JSON.stringify(schema(op.response, "output"), null, 2))
        }</pre></details>`
        : "";
      return `<section><h3><span class="m">${op.method.toUpperCase()}</span> <code>${op.path}</code></h3><p>${
        esc(op.summary)
      }</p>${body}${res}</section>`;
    }).join("");
    return c.html(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>API · aesthetic-gradients</title>` +
        `<style>${PAGE_STYLE}</style></head><body><h1>aesthetic-gradients API</h1><p>${
          esc(String((doc.info as { description: string }).description))
        }</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Validation errors ` +
        `return 422 with <code>{"detail": [{"loc", "msg", "type"}]}</code>.</p>${items}</body></html>`,
    );
  });
  return app;
}
