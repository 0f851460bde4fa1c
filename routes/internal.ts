// A1111's per-task endpoints the page uses (modules/progress.py): /internal/progress follows one task by the
// id the page gave its request (force_task_id), and interrupt/skip here reach only that task. /sdapi/v1's
// progress, interrupt and skip keep acting on whichever job runs, as A1111's do.
import { Hono } from "hono";
import { z } from "zod";
import type { WebUIService } from "../lib/server/service.ts";
import { validBody } from "./validation.ts";

const ProgressRequest = z.object({
  id_task: z.string().max(100),
  id_live_preview: z.int().default(-1),
  live_preview: z.boolean().default(true),
});
const TaskRequest = z.object({ id_task: z.string().max(100) });

export function internalRoutes(svc: WebUIService): Hono {
  const app = new Hono();
  app.post("/progress", async (c) => {
    const r = await validBody(c, ProgressRequest);
    return c.json(svc.tasks.progress(r.id_task, r.id_live_preview, r.live_preview));
  });
  for (const action of ["interrupt", "skip"] as const) {
    app.post(`/${action}`, async (c) => {
      const { id_task } = await validBody(c, TaskRequest);
      const task = svc.tasks.get(id_task);
      if (task && action === "interrupt") svc.tasks.interrupt(task);
      if (task && action === "skip") task.state.skip();
      return c.json({ found: task !== undefined });
    });
  }
  return app;
}
