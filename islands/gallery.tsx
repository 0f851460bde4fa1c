// A job's images: the selected one large (click for the full-size viewer), thumbnails to select, and the
// actions that work on the selected image: download under A1111's name, send it with all its parameters to
// img2img or txt2img, and its infotext.
import { useEffect } from "preact/hooks";
import type { Chart, Mode } from "../lib/extensions/job.ts";
import { ChartView } from "./chart.tsx";
import { Icon } from "./icons.tsx";

export interface Result {
  images: string[];
  infotexts: string[];
  seeds: number[];
  charts: Chart[];
  labels: string[];
  /** How many grids come before the images (A1111's index_of_first_image). */
  firstImage: number;
}

/** A1111's names: a sample's number in the job and its seed, or "grid-" and the first seed. */
export function imageFileName(result: Result, index: number): string {
  const seed = result.seeds[index];
  const n = index - result.firstImage;
  return n < 0 ? `grid-${seed}.png` : `${String(n).padStart(5, "0")}-${seed}.png`;
}

const dataUrl = (b64: string) => `data:image/png;base64,${b64}`;

export function Lightbox(
  { src, onClose, onStep }: { src: string; onClose: () => void; onStep: (d: number) => void },
) {
  useEffect(() => {
    const key = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
      if (e.key === "ArrowLeft") onStep(-1);
      if (e.key === "ArrowRight") onStep(1);
    };
    addEventListener("keydown", key);
    return () => removeEventListener("keydown", key);
  }, [onClose, onStep]);
  return (
    <div class="lightbox" id="lightbox" role="dialog" aria-label="full-size image" onClick={onClose}>
      <img src={src} alt="full size" />
      <button type="button" class="tool close" title="Close (Esc)" aria-label="Close">
        <Icon name="close" />
      </button>
    </div>
  );
}

export function Gallery(
  { mode, result, selected, select, onSend, onZoom }: {
    mode: Mode;
    result: Result;
    selected: number;
    select: (i: number) => void;
    onSend: (to: Mode) => void;
    onZoom: () => void;
  },
) {
  return (
    <div class="gallery" id={`${mode}_gallery`}>
      <img
        class="main"
        src={dataUrl(result.images[selected])}
        alt="generated image"
        title="Click for full size"
        onClick={onZoom}
      />
      {result.images.length > 1 && (
        <div class="thumbs">
          {result.images.map((im, i) => (
            <button
              type="button"
              key={i}
              class={i === selected ? "thumb sel" : "thumb"}
              onClick={() => select(i)}
            >
              <img src={dataUrl(im)} alt={result.labels[i] ?? `image ${i + 1}`} />
              {result.labels[i] && <small>{result.labels[i]}</small>}
            </button>
          ))}
        </div>
      )}
      <div class="row wrap">
        <a
          class="button"
          id={`${mode}_download`}
          download={imageFileName(result, selected)}
          href={dataUrl(result.images[selected])}
        >
          <Icon name="save" /> Save
        </a>
        <button type="button" id={`${mode}_send_to_img2img`} onClick={() => onSend("img2img")}>
          <Icon name="image" /> Send to img2img
        </button>
        <button type="button" id={`${mode}_send_to_txt2img`} onClick={() => onSend("txt2img")}>
          Send to txt2img
        </button>
      </div>
      <pre class="infotext" id={`${mode}_infotext`}>{result.infotexts[selected]}</pre>
      <div class="charts" id={`${mode}_charts`}>
        {result.charts.map((c, i) => <ChartView key={i} chart={c} />)}
      </div>
    </div>
  );
}
