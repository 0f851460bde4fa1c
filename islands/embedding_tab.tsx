// The aesthetic extension's tab: make an embedding from images uploaded from the browser (files or a whole
// folder) or from a folder on the server, with progress, every skipped file with its reason, and a quality
// report of the set (each image's cosine to the mean, outliers flagged). When it is made, every embedding
// dropdown on the page lists it.
import { useEffect, useState } from "preact/hooks";
import type { MakerStatus } from "../lib/server/embedding_maker.ts";
import { EMBEDDINGS_CHANGED, errorText } from "./api.ts";
import { NumberInput } from "./number_input.tsx";

type Source = "upload" | "server";
const SOURCES: [Source, string][] = [["upload", "Upload images"], ["server", "Folder on the server"]];

function Report({ status }: { status: MakerStatus }) {
  const q = status.quality;
  return (
    <div class="report">
      {status.skipped.length > 0 && (
        <details open id="ae_skipped">
          <summary>{status.skipped.length} skipped</summary>
          <ul>
            {status.skipped.map((s) => (
              <li key={s.file}>
                <code>{s.file}</code>: {s.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
      {q && (
        <details open id="ae_quality">
          <summary>
            Is this set coherent? Mean cosine to the embedding {q.meanCosine.toFixed(3)}
            {q.outliers ? `, ${q.outliers} outlier${q.outliers > 1 ? "s" : ""}` : ", no outliers"}
          </summary>
          <table>
            <thead>
              <tr>
                <th>image</th>
                <th>cosine to the mean</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {q.images.map((i) => (
                <tr key={i.file} class={i.outlier ? "outlier" : ""}>
                  <td>
                    <code>{i.file}</code>
                  </td>
                  <td>{i.cosine.toFixed(4)}</td>
                  <td>{i.outlier ? "outlier: far from the rest of the set" : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </div>
  );
}

export default function EmbeddingTab({ base }: { base: string }) {
  const [name, setName] = useState("");
  const [sourceKind, setSourceKind] = useState<Source>("upload");
  const [source, setSource] = useState("");
  const [files, setFiles] = useState<{ file: File; path: string }[]>([]);
  const [batchSize, setBatchSize] = useState(32);
  const [overwrite, setOverwrite] = useState(false);
  const [status, setStatus] = useState<MakerStatus | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!status?.running) return;
    const t = setTimeout(async () => {
      const r = await fetch(`${base}/create`);
      const next: MakerStatus = await r.json();
      setStatus(next);
      if (!next.running && next.ok) dispatchEvent(new Event(EMBEDDINGS_CHANGED));
    }, 300);
    return () => clearTimeout(t);
  }, [status]);

  const pick = (list: FileList | null) =>
    setFiles(Array.from(list ?? [], (file) => ({ file, path: file.webkitRelativePath || file.name })));

  const create = async (e: Event) => {
    e.preventDefault();
    // A new attempt clears the last one's outcome, so an old success never sits beside a new error.
    setError(null);
    setStatus(null);
    let r: Response;
    if (sourceKind === "upload") {
      const form = new FormData();
      form.append("name", name);
      form.append("batchSize", String(batchSize));
      form.append("overwrite", String(overwrite));
      for (const f of files) form.append("files", f.file, f.path);
      r = await fetch(`${base}/create`, { method: "POST", body: form });
    } else {
      r = await fetch(`${base}/create`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, source, batchSize, overwrite }),
      });
    }
    const body = await r.json().catch(() => ({ error: `${r.status} ${r.statusText}` }));
    if (!r.ok) {
      setError(errorText(body));
      return;
    }
    setStatus(body);
  };

  const p = status?.progress;
  return (
    <form class="panel" id="aesthetic_embedding_form" onSubmit={create}>
      <h2>Create aesthetic images embedding</h2>
      <label>
        Name
        <input id="ae_name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
      </label>
      <fieldset class="row wrap">
        {SOURCES.map(([kind, label]) => (
          <label class="check" key={kind}>
            <input
              type="radio"
              name="ae_source_kind"
              id={`ae_source_${kind}`}
              checked={sourceKind === kind}
              onChange={() => setSourceKind(kind)}
            />
            {label}
          </label>
        ))}
      </fieldset>
      {sourceKind === "upload"
        ? (
          <div class="uploads">
            <label>
              Images
              <input
                id="ae_files"
                type="file"
                accept="image/*"
                multiple
                onChange={(e) => pick(e.currentTarget.files)}
              />
            </label>
            <label>
              …or a folder
              <input
                id="ae_folder"
                type="file"
                multiple
                {
                  // Not in the DOM typings, but every current browser supports it for folder uploads.
                  ...{ webkitdirectory: "" }
                }
                onChange={(e) => pick(e.currentTarget.files)}
              />
            </label>
            {files.length > 0 && <span id="ae_file_count">{files.length} files chosen</span>}
          </div>
        )
        : (
          <label>
            Source directory
            <input
              id="ae_source"
              value={source}
              placeholder="/path/to/images"
              onInput={(e) => setSource(e.currentTarget.value)}
              required
            />
          </label>
        )}
      <label>
        Batch size
        <NumberInput
          id="ae_batch"
          label="Batch size"
          value={batchSize}
          set={setBatchSize}
          min={1}
          max={256}
          step={1}
        />
      </label>
      <label class="check">
        <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.currentTarget.checked)} />
        Overwrite an existing embedding
      </label>
      <button id="ae_create" type="submit" class="primary" disabled={status?.running}>
        Create images embedding
      </button>
      {status?.running && (
        <div class="progress">
          <div class="bar" style={{ width: `${p && p.total ? (100 * p.done) / p.total : 0}%` }} />
          <span>
            {status.message}
            {p?.etaSeconds !== undefined ? `, ETA ${p.etaSeconds.toFixed(0)} s` : ""}
          </span>
        </div>
      )}
      {error && <p class="error" id="ae_error" role="alert">{error}</p>}
      {status && !status.running && status.message && (
        <p id="ae_result" class={status.ok ? "ok" : "error"}>{status.message}</p>
      )}
      {status && !status.running && <Report status={status} />}
    </form>
  );
}
