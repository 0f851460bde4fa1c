// Imports an A1111 single-file checkpoint into a diffusers ONNX pipeline folder: hash the file (A1111's
// hashes), detect the family, build text encoder, UNet and VAE encoder/decoder graphs over the file's tensors,
// stream the weights into each part's external-data file, write the configs and tokenizer, all in a staging
// folder renamed into place at the end. The folder remembers its source file's hash (single_file.json), so
// importing the same file again is a no-op.
import { basename, dirname, extname, join } from "node:path";
import { TINY_DEMO_MODEL_DIR } from "../defaults.ts";
import { Net } from "../../onnx/nets/layers.ts";
import { writeNet } from "../../onnx/nets/model_file.ts";
import type { WeightSource } from "../../onnx/nets/weights.ts";
import { a1111Hashes, type FileHashes } from "./a1111_hash.ts";
import { Checkpoint, CheckpointError } from "./checkpoint.ts";
import { type Detected, detectFamily, type Prediction, type TensorShapes } from "./detect.ts";
import { type Built, pipelineParts } from "./parts.ts";
import { VAE_PREFIXES, writeFolderFiles } from "./folder_files.ts";
import { readRecord, RECORD_FILE, type SingleFileRecord } from "./record.ts";
import { vPredictionTest } from "./v_test.ts";
import { defaultHyper, type Hyper, hyperFromConfig, hyperFromYaml } from "./hyper.ts";

export interface ImportOptions {
  modelsDir: string;
  /** Folder name under modelsDir (default: the file's stem). */
  name?: string;
  /** A separate VAE file to use instead of the checkpoint's own (default: A1111's `<stem>.vae.*` beside it). */
  vae?: string;
  /** A diffusers folder whose configs give what the state dict cannot (heads, groups, scheduler). */
  config?: string;
  prediction?: Prediction;
  /** Keep fp16 UNet/VAE weights fp16 on disk (default true). */
  keepHalf?: boolean;
  onProgress?: (stage: string, done: number, total: number) => void;
  /** The file's hashes when the caller has them already (the catalog of dropped files hashes in advance). */
  hashes?: FileHashes;
}

export interface ImportResult {
  path: string;
  name: string;
  family: Detected["family"];
  prediction: Prediction;
  predictionSource: string;
  inpainting: boolean;
  hashes: FileHashes;
  /** True when the folder already held this file's import. */
  cached: boolean;
}

export function checkpointSource(ckpt: Checkpoint): WeightSource & TensorShapes {
  return {
    info: (k) => ckpt.tensors.get(k),
    get: (k) => ckpt.tensors.get(k),
    keys: () => ckpt.tensors.keys(),
    read: (k) => ckpt.read(k),
  };
}

/** A1111's per-checkpoint VAE: `<stem>.vae.safetensors` (or .vae.pt/.vae.ckpt) beside the checkpoint. */
export async function sidecarVae(file: string): Promise<string | undefined> {
  const stem = join(dirname(file), basename(file, extname(file)));
  for (const ext of [".vae.safetensors", ".vae.pt", ".vae.ckpt"]) {
    if (await Deno.stat(stem + ext).then((s) => s.isFile, () => false)) return stem + ext;
  }
  return undefined;
}

export async function sidecarYaml(file: string): Promise<string | undefined> {
  const yaml = join(dirname(file), `${basename(file, extname(file))}.yaml`);
  return await Deno.readTextFile(yaml).catch(() => undefined);
}

export async function importSingleFile(file: string, opts: ImportOptions): Promise<ImportResult> {
  const stem = basename(file, extname(file));
  const name = opts.name ?? stem;
  if (!/^[A-Za-z0-9][\w.-]*$/.test(name) || name.includes("..")) {
    throw new CheckpointError(
      `"${name}" cannot be a model folder name; pass --name with letters, digits, . _ -`,
    );
  }
  const target = join(opts.modelsDir, name);
  const progress = opts.onProgress ?? (() => {});
  const vaeFile = opts.vae ?? await sidecarVae(file);
  const ckpt = Checkpoint.open(file);
  const vaeCkpt = vaeFile ? Checkpoint.open(vaeFile) : undefined;
  try {
    const yaml = await sidecarYaml(file);
    const detected = detectFamily(checkpointSource(ckpt), basename(file), {
      yaml,
      prediction: opts.prediction,
    });
    const hashes = opts.hashes ?? await a1111Hashes(file, (n) => progress("hashing", n, ckpt.size));
    const existing = await readRecord(target);
    const result = (cached: boolean): ImportResult => ({
      path: target,
      name,
      family: detected.family,
      prediction: detected.prediction,
      predictionSource: detected.predictionSource,
      inpainting: detected.inpainting,
      hashes,
      cached,
    });
    if (existing?.sha256 === hashes.sha256 && existing.vae === (vaeFile && basename(vaeFile))) {
      detected.prediction = existing.prediction;
      detected.predictionSource = "the earlier import";
      return result(true);
    }
    if (await Deno.stat(target).then(() => true, () => false)) {
      throw new CheckpointError(
        `${target} already exists${existing ? ` (imported from ${existing.source})` : ""}; ` +
          `pass --name to import under another name, or remove it first`,
      );
    }
    let hyper: Hyper = opts.config ? await hyperFromConfig(detected, opts.config) : defaultHyper(detected);
    if (yaml) hyper = hyperFromYaml(hyper, yaml);

    const main = checkpointSource(ckpt);
    const vaeSource = vaeCkpt ? checkpointSource(vaeCkpt) : main;
    const vaePrefix = VAE_PREFIXES.find((p) => vaeSource.get(`${p}decoder.conv_in.weight`));
    if (vaePrefix === undefined) {
      throw new CheckpointError(`${basename(vaeFile ?? file)} has no VAE decoder (decoder.conv_in.weight)`);
    }
    const staging = join(opts.modelsDir, ".staging", `import-${hashes.shortHash}-${Deno.pid}`);
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    await Deno.mkdir(staging, { recursive: true });
    try {
      const parts = pipelineParts(
        detected,
        hyper,
        main,
        { source: vaeSource, prefix: vaePrefix },
        opts.keepHalf ?? true,
      );
      for (const part of parts) {
        const net = new Net(part.name, part.source, part.keepHalf);
        let built: Built;
        try {
          built = part.build(net);
        } catch (e) {
          // A tensor the architecture needs is missing or misshapen: the file, not the program, is at fault.
          throw new CheckpointError(
            `${basename(file)}: cannot build the ${part.name} (${(e as Error).message})`,
          );
        }
        const total = net.w.bytes;
        const onBytes = (n: number) => progress(part.name, n, total);
        await writeNet(net, join(staging, part.name), built.inputs, built.outputs, onBytes, part.inline);
      }
      if (detected.family === "sd2" && yaml === undefined && !opts.prediction) {
        // Nothing says which SD 2.x this is: run A1111's test on the UNet just built.
        const test = await vPredictionTest(join(staging, "unet", "model.onnx"), detected.text.hidden);
        detected.prediction = test.v ? "v_prediction" : "epsilon";
        detected.predictionSource = `A1111's test run of the UNet (mean output − input ${
          test.score.toFixed(3)
        })`;
        hyper.scheduler = { ...hyper.scheduler, prediction_type: detected.prediction };
      }
      await writeFolderFiles(staging, {
        detected,
        hyper,
        tensors: main,
        vaeTensors: vaeSource,
        vaePrefix,
        vocabDir: join(TINY_DEMO_MODEL_DIR, "tokenizer"),
      });
      const record: SingleFileRecord = {
        source: basename(file),
        sha256: hashes.sha256,
        shortHash: hashes.shortHash,
        legacyHash: hashes.legacyHash,
        family: detected.family,
        prediction: detected.prediction,
        ...(vaeFile ? { vae: basename(vaeFile) } : {}),
      };
      await Deno.writeTextFile(join(staging, RECORD_FILE), JSON.stringify(record, null, 2) + "\n");
      await Deno.rename(staging, target);
    } catch (e) {
      await Deno.remove(staging, { recursive: true }).catch(() => {});
      throw e;
    }
    return result(false);
  } finally {
    ckpt.close();
    vaeCkpt?.close();
  }
}
