// Two pages generating at once: each follows only its own job (its task id), the second sees its place in the
// queue, Interrupt on one page stops only that page's job, and no bar stays behind when a job is done.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import type { Page } from "playwright-core";
import { browserTest, shot, typeInto, typeNumber, withBrowser } from "./browser.ts";

/** Records every text the page's progress bar shows, from now on. */
async function recordProgress(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (globalThis as unknown as { seen: string[] }).seen = seen;
    new MutationObserver(() => {
      const t = document.querySelector("#txt2img_progress span")?.textContent;
      if (t && seen.at(-1) !== t) seen.push(t);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  return () => page.evaluate(() => (globalThis as unknown as { seen: string[] }).seen);
}

async function setUp(page: Page, prompt: string, steps: string, size: string): Promise<void> {
  await typeInto(page, "#txt2img_prompt", prompt);
  await typeNumber(page, "#txt2img_steps", steps);
  await typeNumber(page, "#txt2img_width", size);
  await typeNumber(page, "#txt2img_height", size);
}

Deno.test("two pages generating at once each see only their own progress", browserTest, async () => {
  await withBrowser(async ({ open }) => {
    const a = await open(1400, 900);
    const b = await open(400, 900);
    await setUp(a, "a long job", "150", "256");
    await setUp(b, "a short job", "3", "64");
    const seenA = await recordProgress(a);
    const seenB = await recordProgress(b);

    await a.click("#txt2img_generate");
    await a.waitForFunction(() =>
      /step [1-9]\d*\/150/.test(document.querySelector("#txt2img_progress")?.textContent ?? "")
    );
    await a.waitForSelector("#txt2img_preview");
    await b.click("#txt2img_generate");
    await b.waitForFunction(() =>
      document.querySelector("#txt2img_progress")?.textContent === "In queue: 1 ahead"
    );
    assertEquals(await b.locator("#txt2img_preview").count(), 0, "no preview of the other page's job");
    await shot(a, "webui-progress-running-1400");
    await shot(b, "webui-progress-queued-400");

    // Interrupt on page A stops A's job; B's job then runs whole.
    await a.click("#txt2img_interrupt");
    await a.waitForSelector("#txt2img_gallery img.main", { timeout: 60_000 });
    await b.waitForSelector("#txt2img_gallery img.main", { timeout: 60_000 });
    const infoA = (await a.textContent("#txt2img_infotext"))!;
    const infoB = (await b.textContent("#txt2img_infotext"))!;
    ok(infoA.startsWith("a long job\nSteps: 150"), infoA);
    ok(infoB.startsWith("a short job\nSteps: 3"), infoB);

    const textsA = await seenA();
    const textsB = await seenB();
    ok(textsA.some((t) => t.includes("/150")), textsA.join(" | "));
    ok(!textsA.some((t) => t.includes("In queue") || t.includes("/3")), `A saw only its job: ${textsA}`);
    ok(textsB.includes("In queue: 1 ahead"), textsB.join(" | "));
    ok(!textsB.some((t) => t.includes("/150")), `B never saw A's steps: ${textsB}`);

    await shot(b, "webui-generated-400", true);
    // No stale bar once the jobs are done.
    await new Promise((r) => setTimeout(r, 1000));
    assertEquals(
      [await a.locator("#txt2img_progress").count(), await b.locator("#txt2img_progress").count()],
      [0, 0],
    );
  });
});
