// "Is this set coherent?": the method pulls prompts toward the mean of the set, so it works only as well as
// the mean represents the images. Each image's cosine to the mean shows how well; an image far below the
// others (more than two standard deviations under the set's average cosine) is flagged as an outlier.
export interface ImageQuality {
  file: string;
  /** cos(image_embeds, mean), in [-1, 1]. */
  cosine: number;
  outlier: boolean;
}

export interface QualityReport {
  /** Sorted from the least to the most typical image. */
  images: ImageQuality[];
  meanCosine: number;
  outliers: number;
}

/** Below this many images, spread is not meaningful and nothing is flagged. */
const MIN_FOR_OUTLIERS = 4;

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Collects per-image embeddings (as makeEmbedding's onEmbeds gives them) and reports on the set. */
export class QualityCollector {
  #files: string[] = [];
  #embeds: Float32Array[] = [];

  add = (files: string[], embeds: Float32Array): void => {
    const dim = embeds.length / files.length;
    files.forEach((f, i) => {
      this.#files.push(f);
      this.#embeds.push(embeds.slice(i * dim, (i + 1) * dim));
    });
  };

  report(mean: Float32Array, name: (file: string) => string = (f) => f): QualityReport {
    const cos = this.#embeds.map((e) => cosine(e, mean));
    const n = cos.length;
    const avg = cos.reduce((s, c) => s + c, 0) / Math.max(1, n);
    const sd = Math.sqrt(cos.reduce((s, c) => s + (c - avg) ** 2, 0) / Math.max(1, n));
    const images = this.#files.map((f, i) => ({
      file: name(f),
      cosine: cos[i],
      outlier: n >= MIN_FOR_OUTLIERS && cos[i] < avg - 2 * sd,
    })).sort((a, b) => a.cosine - b.cosine);
    return { images, meanCosine: avg, outliers: images.filter((i) => i.outlier).length };
  }
}
