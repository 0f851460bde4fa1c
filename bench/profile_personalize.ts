// Dev tool: where a personalization step's forward + backward time goes. Builds the engine's gradient graph for
// a CLIP text model, runs it with onnxruntime's profiler and prints the time per op type (of the last run) and
// the slowest nodes. Per-node shares hold up on a busy machine better than wall-clock times do.
// Usage: deno run -A bench/profile_personalize.ts TEXT_MODEL [THREADS=2] [RUNS=3] [TOKENS=10]
//   TOKENS: how many of the benchmark prompt's 77 token ids the gradient graph is given (10 = up to its padding,
//   what the engine runs; 77 = every token).
import * as ort from "onnxruntime-node";
import { TextPersonalizer } from "../lib/personalize/engine.ts";
import { graphCacheEntry, readGraphs } from "../lib/personalize/graph_cache.ts";
import { decodeModel } from "../lib/onnx/proto.ts";

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; output_type_shape?: unknown };
}

const [path, threadsArg = "2", runsArg = "3", tokensArg = "10"] = Deno.args;
if (!path) {
  console.error("usage: profile_personalize.ts TEXT_MODEL [THREADS] [RUNS] [TOKENS]");
  Deno.exit(2);
}
const threads = Number(threadsArg);
const work = await Deno.makeTempDir({ prefix: "profile_personalize_" });
try {
  // The engine builds (and caches) exactly the graphs it runs; the profile session opens the same bytes.
  await (await TextPersonalizer.load(path, { threads, cache: { dir: work, key: "" } })).release();
  const graphs = (await readGraphs((await graphCacheEntry(work, path, "|last_hidden_state"))!))!;
  const counts = new Map<string, number>();
  for (const n of decodeModel(graphs.gradient).graph.node) {
    counts.set(n.opType!, (counts.get(n.opType!) ?? 0) + 1);
  }
  console.log(`gradient graph: ${[...counts.values()].reduce((a, b) => a + b)} nodes`);
  console.log([...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", "));

  const session = await ort.InferenceSession.create(graphs.gradient, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    enableProfiling: true,
    profileFilePrefix: `${work}/profile`,
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  });
  const tokens = Number(tokensArg);
  const ids = [49406, 320, 3365, 539, 320, 2183, 530, 518, 3293, 49407, ...new Array(67).fill(49407)];
  const feeds: Record<string, ort.Tensor> = {
    [session.inputNames[0]]: new ort.Tensor("int64", BigInt64Array.from(ids.slice(0, tokens), BigInt), [
      1,
      tokens,
    ]),
  };
  let seed = 1;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
  for (const s of graphs.meta.slots) {
    feeds[s.name] = new ort.Tensor(
      "float32",
      Float32Array.from({ length: s.size }, () => rnd() / 25),
      s.dims,
    );
  }
  const dim = graphs.meta.embedDim;
  feeds.aesthetic_embedding = new ort.Tensor("float32", Float32Array.from({ length: dim }, rnd), [1, dim]);
  for (let i = 0; i < Number(runsArg); i++) await session.run(feeds);
  session.endProfiling();
  await session.release();

  const file = [...Deno.readDirSync(work)].find((e) =>
    e.name.startsWith("profile") && e.name.endsWith(".json")
  )!;
  const events = JSON.parse(Deno.readTextFileSync(`${work}/${file.name}`)) as ProfileEvent[];
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run");
  console.log(`runs (ms): ${runs.map((r) => (r.dur / 1000).toFixed(1)).join(", ")}`);
  const last = runs.at(-1)!;
  const nodes = events.filter((e) =>
    e.cat === "Node" && e.name.endsWith("_kernel_time") && e.ts >= last.ts && e.ts <= last.ts + last.dur
  );
  const total = nodes.reduce((t, e) => t + e.dur, 0);
  console.log(
    `last run: ${(last.dur / 1000).toFixed(1)} ms, of which kernels ${
      (total / 1000).toFixed(1)
    } ms (${nodes.length} run)`,
  );
  const byOp = new Map<string, { us: number; n: number }>();
  for (const e of nodes) {
    const op = e.args?.op_name ?? "?";
    const o = byOp.get(op) ?? { us: 0, n: 0 };
    o.us += e.dur;
    o.n++;
    byOp.set(op, o);
  }
  console.log("| op | ms | share | nodes run |\n| --- | --- | --- | --- |");
  for (const [op, o] of [...byOp].sort((a, b) => b[1].us - a[1].us).slice(0, 15)) {
    console.log(`| ${op} | ${(o.us / 1000).toFixed(1)} | ${(100 * o.us / total).toFixed(1)} % | ${o.n} |`);
  }
  console.log("slowest nodes:");
  for (const e of [...nodes].sort((a, b) => b.dur - a.dur).slice(0, 10)) {
    console.log(
      `  ${(e.dur / 1000).toFixed(2)} ms  ${e.args?.op_name}  ${e.name.replace(/_kernel_time$/, "")}  ` +
        JSON.stringify(e.args?.output_type_shape ?? ""),
    );
  }
} finally {
  await Deno.remove(work, { recursive: true });
}
