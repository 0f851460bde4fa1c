// What the running generation is doing, as A1111's shared.state tracks it for /sdapi/v1/progress: which image
// of how many, which sampling step, the latest preview, and the interrupt/skip flags the pipeline polls.

export interface ProgressState {
  skipped: boolean;
  interrupted: boolean;
  job: string;
  job_count: number;
  job_timestamp: string;
  job_no: number;
  sampling_step: number;
  sampling_steps: number;
}

/** The body of GET /sdapi/v1/progress. */
export interface ProgressSnapshot {
  /** 0..1 over the whole job. */
  progress: number;
  /** Estimated seconds left. */
  eta_relative: number;
  state: ProgressState;
  /** The latest preview as base64 PNG, or null. */
  current_image: string | null;
  textinfo: string | null;
}

function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${
    p(d.getSeconds())
  }`;
}

export class GenerationState {
  #job = "";
  #jobCount = 0;
  #jobNo = 0;
  #step = 0;
  #steps = 0;
  #started = 0;
  #timestamp = "0";
  #interrupted = false;
  #skipped = false;
  #preview: string | null = null;
  #previewId = -1;
  #textinfo: string | null = null;
  #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** A new job of `jobCount` images (or batches), each sampled in `steps` steps. */
  begin(job: string, jobCount: number, steps: number): void {
    this.#job = job;
    this.#jobCount = jobCount;
    this.#jobNo = 0;
    this.#step = 0;
    this.#steps = steps;
    this.#started = this.#now();
    this.#timestamp = timestamp(new Date());
    this.#interrupted = false;
    this.#skipped = false;
    this.#preview = null;
    this.#textinfo = null;
  }

  /** The next image (or batch) of the job starts; a skip applies to one image only. */
  nextImage(): void {
    if (this.#step > 0 || this.#jobNo > 0) this.#jobNo++;
    this.#step = 0;
    this.#skipped = false;
  }

  /** `step` sampling steps of the current image are done. */
  setStep(step: number, steps?: number): void {
    this.#step = step;
    if (steps !== undefined) this.#steps = steps;
  }

  setPreview(base64Png: string | null): void {
    this.#preview = base64Png;
    if (base64Png !== null) this.#previewId++;
  }

  /** Counts the previews set so far (-1: none), so a client asks only for a preview it has not seen. */
  get previewId(): number {
    return this.#previewId;
  }

  setText(text: string | null): void {
    this.#textinfo = text;
  }

  /**
   * Mirrors a job running in another process (lib/queue) from the state it reports; the ETA counts from when
   * this side first saw it run. A new image clears a skip, as nextImage() does.
   */
  follow(remote: ProgressState, textinfo: string | null, preview?: string): void {
    if (!this.#job) {
      this.#started = this.#now();
      this.#interrupted = false;
      this.#skipped = false;
    }
    if (remote.job_no !== this.#jobNo) this.#skipped = false;
    this.#job = remote.job;
    this.#jobCount = remote.job_count;
    this.#jobNo = remote.job_no;
    this.#step = remote.sampling_step;
    this.#steps = remote.sampling_steps;
    this.#timestamp = remote.job_timestamp;
    this.#textinfo = textinfo;
    if (preview !== undefined) this.setPreview(preview);
  }

  end(): void {
    this.#job = "";
    this.#jobCount = 0;
    this.#jobNo = 0;
    this.#step = 0;
    this.#steps = 0;
    this.#preview = null;
    this.#textinfo = null;
  }

  /** Stops the whole job at the next step; images already done are kept. */
  interrupt(): void {
    if (this.#job) this.#interrupted = true;
  }

  /** Abandons the current image at the next step and moves on to the next one. */
  skip(): void {
    if (this.#job) this.#skipped = true;
  }

  get interrupted(): boolean {
    return this.#interrupted;
  }

  get skipped(): boolean {
    return this.#skipped;
  }

  get busy(): boolean {
    return this.#job !== "";
  }

  /** Progress over the whole job, as A1111's progressapi computes it. */
  snapshot(): ProgressSnapshot {
    const state: ProgressState = {
      skipped: this.#skipped,
      interrupted: this.#interrupted,
      job: this.#job,
      job_count: this.#jobCount,
      job_timestamp: this.#timestamp,
      job_no: this.#jobNo,
      sampling_step: this.#step,
      sampling_steps: this.#steps,
    };
    if (!this.#job || this.#jobCount === 0) {
      return { progress: 0, eta_relative: 0, state, current_image: null, textinfo: null };
    }
    let progress = this.#jobNo / this.#jobCount;
    if (this.#steps > 0) progress += (1 / this.#jobCount) * (this.#step / this.#steps);
    progress = Math.min(progress, 1);
    const elapsed = (this.#now() - this.#started) / 1000;
    const eta = progress > 0 ? elapsed / progress - elapsed : 0;
    return { progress, eta_relative: eta, state, current_image: this.#preview, textinfo: this.#textinfo };
  }
}
