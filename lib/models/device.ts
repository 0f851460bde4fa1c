// `--device` and `--threads` for every CLI: parsing, and session options that fall back to the CPU with one
// clear line when the requested execution provider cannot be used (no GPU, provider library not installed).
import type { Device, SessionOptions } from "../onnx/session.ts";

export const DEVICES: readonly Device[] = ["cpu", "cuda", "coreml", "dml"];

/** parseArgs (node:util) option declarations for the two flags. */
export const DEVICE_ARG_OPTIONS = {
  device: { type: "string" },
  threads: { type: "string" },
} as const;

export interface DeviceChoice {
  device: Device;
  /** Intra-op threads; 0 lets onnxruntime use one per core. */
  threads: number;
}

export function parseDevice(value: string | undefined): Device {
  if (value === undefined || value === "") return "cpu";
  const v = value.toLowerCase();
  if ((DEVICES as readonly string[]).includes(v)) return v as Device;
  throw new Error(`unknown --device "${value}": use ${DEVICES.join(", ")}`);
}

export function parseThreads(value: string | undefined): number {
  if (value === undefined || value === "") return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 1024) {
    throw new Error(`--threads must be a whole number from 0 (automatic) to 1024, got "${value}"`);
  }
  return n;
}

export function deviceFromArgs(values: { device?: string; threads?: string }): DeviceChoice {
  return { device: parseDevice(values.device), threads: parseThreads(values.threads) };
}

/**
 * Session options for a device choice. A provider that fails falls back to the CPU; the message is written
 * once per returned options object (a pipeline opens several sessions with it) through `report`, stderr by
 * default.
 */
export function sessionOptions(
  choice: DeviceChoice,
  report: (line: string) => void = (line) => console.error(line),
): SessionOptions {
  let reported = false;
  return {
    device: choice.device,
    threads: choice.threads,
    onFallback: (message) => {
      if (!reported) report(message);
      reported = true;
    },
  };
}
