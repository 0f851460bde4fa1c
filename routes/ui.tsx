// The WebUI page (server-rendered Preact, hydrated by the islands bundle) and the small JSON endpoints only
// the page uses: dropdown refreshes and pasting an infotext back into the form.
import { Hono } from "hono";
import { renderToString } from "preact-render-to-string";
import { z } from "zod";
import { extensionView, type Values, valuesFromInfotext } from "../lib/extensions/adapter.ts";
import type { WebUIService } from "../lib/server/service.ts";
import { plotAxes } from "../lib/server/xyz_axes.ts";
import type { Mode } from "../lib/extensions/job.ts";
import type { PlotAxisView } from "../islands/xyz_plot.tsx";
import { TokenCounter } from "../lib/server/token_count.ts";
import { Island } from "../islands/island.tsx";
import { ISLANDS } from "../islands/registry.ts";
import WebUI from "../islands/webui.tsx";
import Checkpoint from "../islands/checkpoint.tsx";
import { STYLE } from "./style.ts";
import { validBody } from "./validation.ts";
import { pasteFields } from "./paste.ts";

const PasteBody = z.object({ infotext: z.string().max(100_000) });
const TokensBody = z.object({ prompt: z.string().max(20_000) });

/** The X/Y/Z plot's axes on a tab as the page lists them (choices resolved now; the fill button's). */
async function plotAxisViews(mode: Mode, svc: WebUIService): Promise<PlotAxisView[]> {
  const examples = new Map(svc.extensions.flatMap((e) => (e.axes ?? []).map((a) => [a.label, a.example])));
  return await Promise.all(
    plotAxes(mode, svc.extensions).map(async ({ index, axis }) => ({
      index,
      label: axis.label,
      kind: axis.kind,
      choices: axis.choices ? await axis.choices() : undefined,
      example: examples.get(axis.label),
    })),
  );
}

function refinerTitles(svc: WebUIService): string[] {
  return svc.checkpoints().filter((m) => m.refiner).map((m) => svc.title(m));
}

export function uiRoutes(svc: WebUIService, scriptUrl: string): Hono {
  const app = new Hono();

  app.get("/", async (c) => {
    const extensions = await Promise.all(svc.extensions.map(extensionView));
    const tabs = [
      { id: "txt2img", title: "txt2img" },
      { id: "img2img", title: "img2img" },
      ...svc.extensions.flatMap((e) => (e.tabs ?? []).map((t) => ({ id: t.id, title: t.title }))),
      { id: "pnginfo", title: "PNG Info" },
      { id: "settings", title: "Settings" },
    ];
    // Each model draws first at its native size; 512 where its config does not say.
    const sizeOf = (m: { defaultSize?: number } | undefined) => m?.defaultSize ?? 512;
    const props = {
      samplers: [...svc.samplers()],
      size: sizeOf(svc.checkpoint(svc.options.sd_model_checkpoint)),
      styles: svc.styles.map((s) => s.name),
      extensions,
      plotAxes: {
        txt2img: await plotAxisViews("txt2img", svc),
        img2img: await plotAxisViews("img2img", svc),
      },
      options: { ...svc.options },
      settingsFile: svc.config.settingsFile ?? null,
      refiners: refinerTitles(svc),
    };
    const checkpoint = {
      // A refiner runs only after a base model: it is offered in the Refiner accordion, not here.
      models: svc.checkpoints().filter((m) => !m.refiner).map((m) => m.name),
      sizes: Object.fromEntries(svc.checkpoints().map((m) => [m.name, sizeOf(m)])),
      model: svc.options.sd_model_checkpoint,
      unusable: Object.fromEntries(svc.unusableFiles().map((m) => [m.name, m.problems.join("; ")])),
    };
    const body = renderToString(
      <body>
        <header>
          <h1>aesthetic-gradients</h1>
          <Island name="Checkpoint" component={Checkpoint} props={checkpoint} />
          <nav>
            {tabs.map((t, i) => (
              <button
                type="button"
                key={t.id}
                data-tab={t.id}
                id={`tab_${t.id}`}
                class={i === 0 ? "active" : ""}
              >
                {t.title}
              </button>
            ))}
          </nav>
        </header>
        <main>
          <Island name="WebUI" component={WebUI} props={props} />
          {svc.extensions.flatMap((e) =>
            (e.tabs ?? []).map((t) => (
              <section key={t.id} data-panel={t.id} hidden class="tab">
                <Island
                  name={t.island.name}
                  component={ISLANDS[t.island.name]}
                  props={t.island.props({ base: `/extensions/${e.id}` })}
                />
              </section>
            ))
          )}
        </main>
        <footer>
          <a href="/docs">API</a> · A1111-compatible at <code>/sdapi/v1</code>
        </footer>
        <script type="module" src={scriptUrl}></script>
      </body>,
    );
    return c.html(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>aesthetic-gradients</title><style>${STYLE}</style></head>${body}</html>`,
    );
  });

  app.get("/ui/extensions/:ext/choices/:control", async (c) => {
    const ext = svc.extensions.find((e) => e.id === c.req.param("ext"));
    const control = ext?.controls.find((k) => k.id === c.req.param("control"));
    if (!control || control.kind !== "dropdown") return c.json({ error: "no such dropdown" }, 404);
    return c.json({ choices: await control.choices() });
  });

  const counter = new TokenCounter();
  app.post("/ui/tokens", async (c) => {
    const { prompt } = await validBody(c, TokensBody);
    const model = svc.checkpoint(svc.options.sd_model_checkpoint) ?? svc.checkpoints()[0];
    return c.json(await counter.count(model.path, prompt));
  });

  app.post("/ui/paste", async (c) => {
    const { infotext } = await validBody(c, PasteBody);
    const { prompt, negative_prompt, fields, params } = pasteFields(infotext, {
      samplers: svc.samplers(),
      options: svc.options,
      refiners: refinerTitles(svc),
    });
    const extensions: Record<string, Values> = {};
    for (const ext of svc.extensions) {
      const v = valuesFromInfotext(ext, params);
      if (v) extensions[ext.id] = v;
    }
    return c.json({ prompt, negative_prompt, fields, extensions });
  });
  return app;
}
