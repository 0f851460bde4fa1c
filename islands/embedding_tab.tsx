// The aesthetic extension's tab: make an embedding from a folder of images, with progress and a result message.
import { useEffect, useState } from "preact/hooks";
import type { MakerStatus } from "../lib/server/embedding_maker.ts";
import { EMBEDDINGS_CHANGED } from "./api.ts";

export default function EmbeddingTab({ base }: { base: string }) {
  const [name, setName] = useState("");
  const [source, setSource] = useState("");
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

  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const r = await fetch(`${base}/create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, source, batchSize, overwrite }),
    });
    const body = await r.json();
    if (!r.ok) {
      setError(
        body.detail ? Object.entries(body.detail).map(([k, v]) => `${k}: ${v}`).join("; ") : body.error,
      );
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
      <label>
        Batch size
        <input
          id="ae_batch"
          type="number"
          min={1}
          max={256}
          value={batchSize}
          onInput={(e) => setBatchSize(Number(e.currentTarget.value))}
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
      {error && <p class="error" id="ae_error">{error}</p>}
      {status && !status.running && status.message && (
        <p id="ae_result" class={status.ok ? "ok" : "error"}>{status.message}</p>
      )}
    </form>
  );
}
