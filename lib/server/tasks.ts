// Every generation is a task with an id (A1111's `force_task_id`, or one made up here), so each page follows
// only its own job: its place in the queue, its progress and previews, and interrupt/skip that reach it alone.
// Finished tasks are remembered for a while so a page polling after the answer still learns "completed".
import { InputError } from "../io/input_error.ts";
import { GenerationState, type ProgressSnapshot } from "./progress.ts";

export type TaskPhase = "queued" | "running" | "done";

export interface Task {
  readonly id: string;
  readonly state: GenerationState;
  phase: TaskPhase;
  /** Interrupted while still waiting: it starts and stops at once, keeping no image. */
  cancelled: boolean;
  /** Why a waiting task cannot start yet (a queued job whose model no worker holds), shown with its place. */
  waitingFor?: string;
  /**
   * Jobs before it as a shared queue counts them (lib/queue: the running and waiting jobs of its model's queue,
   * whichever server sent them), used instead of this server's own count.
   */
  ahead?: number;
}

/** A task's progress as A1111's /internal/progress answers it, plus its place in the queue. */
export interface TaskProgress {
  active: boolean;
  queued: boolean;
  completed: boolean;
  /** Jobs that run before this one (0 when it runs or is done). */
  queue_position: number;
  progress: number | null;
  eta: number | null;
  live_preview: string | null;
  id_live_preview: number;
  textinfo: string | null;
  /** The sampling step of the current image, for "step 3/20". */
  sampling_step: number;
  sampling_steps: number;
}

/** Ids a client may choose: A1111's `task(…)` form and anything alike, short and printable. */
const TASK_ID = /^[\w().:-]{1,100}$/;
const KEEP_DONE = 64;

let counter = 0;

export class TaskRegistry {
  #tasks = new Map<string, Task>();
  #order: string[] = [];

  constructor(private readonly now?: () => number) {}

  /** A new task; `id` is the client's (refused when malformed or still in use), else one is made. */
  create(id?: string): Task {
    if (id !== undefined) {
      if (!TASK_ID.test(id)) {
        throw new InputError("a task id is 1-100 letters, digits or ()._:-", ["force_task_id"]);
      }
      if (this.#tasks.get(id)?.phase === "queued" || this.#tasks.get(id)?.phase === "running") {
        throw new InputError(`task ${id} is already queued or running`, ["force_task_id"]);
      }
    }
    const task: Task = {
      id: id ?? `task(${Date.now().toString(36)}${(counter++).toString(36)})`,
      state: new GenerationState(this.now),
      phase: "queued",
      cancelled: false,
    };
    this.#tasks.set(task.id, task);
    this.#order = this.#order.filter((t) => t !== task.id);
    this.#order.push(task.id);
    return task;
  }

  get(id: string): Task | undefined {
    return this.#tasks.get(id);
  }

  /** The running task, if any. */
  running(): Task | undefined {
    for (const t of this.#tasks.values()) if (t.phase === "running") return t;
    return undefined;
  }

  /** Tasks waiting before `task` (the running one included). */
  ahead(task: Task): number {
    if (task.phase !== "queued") return 0;
    if (task.ahead !== undefined) return task.ahead;
    let n = 0;
    for (const id of this.#order) {
      if (id === task.id) break;
      const t = this.#tasks.get(id)!;
      if (t.phase !== "done") n++;
    }
    return n;
  }

  finish(task: Task): void {
    task.phase = "done";
    const done = this.#order.filter((id) => this.#tasks.get(id)?.phase === "done");
    for (const id of done.slice(0, Math.max(0, done.length - KEEP_DONE))) {
      this.#tasks.delete(id);
      this.#order = this.#order.filter((t) => t !== id);
    }
  }

  /** Stops a task: the running one at its next step, a waiting one before it starts. */
  interrupt(task: Task): void {
    if (task.phase === "queued") task.cancelled = true;
    task.state.interrupt();
  }

  /** "In queue: N ahead", and why it cannot start yet when it waits for something. */
  #queuedText(task: Task, ahead: number): string {
    return `In queue: ${ahead} ahead${task.waitingFor ? `; ${task.waitingFor}` : ""}`;
  }

  /**
   * One task as /sdapi/v1/progress answers the running job (its `id_task` query): a waiting task says its place
   * in textinfo; undefined for an unknown task.
   */
  snapshot(id: string): ProgressSnapshot | undefined {
    const task = this.#tasks.get(id);
    if (!task) return undefined;
    const snap = task.state.snapshot();
    if (task.phase === "queued") snap.textinfo = this.#queuedText(task, this.ahead(task));
    if (task.phase === "done") snap.progress = 1;
    return snap;
  }

  /**
   * The task's progress; `knownPreview` is the preview id the page already shows, so an unchanged preview is not
   * sent again.
   */
  progress(id: string, knownPreview = -1, withPreview = true): TaskProgress {
    const task = this.#tasks.get(id);
    const idle: TaskProgress = {
      active: false,
      queued: false,
      completed: false,
      queue_position: 0,
      progress: null,
      eta: null,
      live_preview: null,
      id_live_preview: -1,
      textinfo: "Waiting...",
      sampling_step: 0,
      sampling_steps: 0,
    };
    if (!task) return idle;
    if (task.phase === "queued") {
      const ahead = this.ahead(task);
      return { ...idle, queued: true, queue_position: ahead, textinfo: this.#queuedText(task, ahead) };
    }
    if (task.phase === "done") return { ...idle, completed: true, progress: 1, textinfo: null };
    const snap: ProgressSnapshot = task.state.snapshot();
    const previewId = task.state.previewId;
    const fresh = withPreview && previewId !== knownPreview && snap.current_image !== null;
    return {
      ...idle,
      active: true,
      progress: snap.progress,
      eta: snap.eta_relative,
      live_preview: fresh ? `data:image/png;base64,${snap.current_image}` : null,
      id_live_preview: previewId,
      textinfo: snap.textinfo,
      sampling_step: snap.state.sampling_step,
      sampling_steps: snap.state.sampling_steps,
    };
  }
}
