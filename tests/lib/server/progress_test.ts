import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { GenerationState } from "../../../lib/server/progress.ts";

Deno.test("progress covers images and steps; eta from elapsed time", () => {
  let t = 0;
  const s = new GenerationState(() => t);
  assertEquals(s.snapshot().progress, 0);
  s.begin("txt2img", 2, 10);
  s.nextImage();
  s.setStep(5);
  t = 1000; // 1 s for a quarter of the job
  let snap = s.snapshot();
  assertEquals(snap.progress, 0.25);
  assertEquals(snap.eta_relative, 3);
  assertEquals([snap.state.job_no, snap.state.sampling_step, snap.state.sampling_steps], [0, 5, 10]);
  s.setStep(10);
  s.nextImage();
  s.setStep(5);
  snap = s.snapshot();
  assertEquals(snap.progress, 0.75);
  assertEquals(snap.state.job_no, 1);
  s.end();
  assertEquals(s.snapshot().progress, 0);
  ok(!s.busy);
});

Deno.test("interrupt and skip only apply while a job runs; skip clears on the next image", () => {
  const s = new GenerationState();
  s.interrupt();
  s.skip();
  ok(!s.interrupted && !s.skipped);
  s.begin("txt2img", 3, 4);
  s.nextImage();
  s.skip();
  ok(s.skipped && s.snapshot().state.skipped);
  s.nextImage();
  ok(!s.skipped);
  s.interrupt();
  ok(s.interrupted);
  s.begin("txt2img", 1, 4);
  ok(!s.interrupted, "a new job starts uninterrupted");
});

Deno.test("preview and text are reported until the job ends", () => {
  const s = new GenerationState();
  s.begin("img2img", 1, 2);
  s.setPreview("iVBOR");
  s.setText("Aesthetic optimization");
  assertEquals([s.snapshot().current_image, s.snapshot().textinfo], ["iVBOR", "Aesthetic optimization"]);
  s.end();
  assertEquals(s.snapshot().current_image, null);
});
