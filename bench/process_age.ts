// What both sides of the personalization benchmark share: the prompt's token ids and how set-up is timed.

/** "a photo of a cat sitting on the grass"-like ids, padded to CLIP's 77 tokens (the baseline uses the same). */
export const stepIds = [
  49406,
  320,
  3365,
  539,
  320,
  2183,
  530,
  518,
  3293,
  49407,
  ...new Array(67).fill(49407),
];

/**
 * Seconds since this process started, from the kernel's own record (/proc/self/stat, in USER_HZ ticks of
 * 1/100 s on Linux), so set-up time counts runtime start-up and imports on both sides alike.
 */
export function processAgeS(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const startTicks = Number(fields[19]); // field 22 of the whole line
  const uptime = Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]);
  return uptime - startTicks / 100;
}
