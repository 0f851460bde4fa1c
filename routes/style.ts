// The page's stylesheet: a compact dark layout in the spirit of A1111's Gradio UI.
export const STYLE = `
:root { color-scheme: dark; --bg:#0b0f19; --panel:#1f2937; --line:#374151; --fg:#e5e7eb; --muted:#9ca3af;
  --accent:#ea580c; font: 14px system-ui, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
header { display: flex; align-items: center; gap: 24px; padding: 8px 16px; border-bottom: 1px solid var(--line); }
h1 { font-size: 16px; margin: 0; }
nav { display: flex; gap: 4px; flex-wrap: wrap; }
nav button { background: none; border: 1px solid transparent; color: var(--muted); padding: 6px 12px; border-radius: 6px 6px 0 0; }
nav button.active { color: var(--fg); border-color: var(--line); border-bottom-color: var(--bg); }
main { padding: 12px 16px; }
footer { padding: 8px 16px; color: var(--muted); }
footer a { color: var(--accent); }
.tab[hidden] { display: none; }
.top { display: flex; gap: 12px; }
.prompts { flex: 1; display: flex; flex-direction: column; gap: 6px; }
textarea, input, select { background: var(--panel); color: var(--fg); border: 1px solid var(--line); border-radius: 6px; padding: 6px; font: inherit; }
textarea { width: 100%; resize: vertical; }
.actions { width: 240px; display: flex; align-items: stretch; }
.actions > * { flex: 1; }
button, a.button { background: var(--panel); color: var(--fg); border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; cursor: pointer; text-decoration: none; font: inherit; }
button.primary { background: var(--accent); border-color: var(--accent); font-weight: 600; font-size: 16px; }
button.tool { padding: 4px 8px; }
button:disabled { opacity: .5; }
.columns { display: flex; gap: 16px; margin-top: 12px; align-items: flex-start; }
.settings { flex: 1; display: flex; flex-direction: column; gap: 8px; max-width: 560px; }
.settings.narrow { max-width: 420px; }
.output { flex: 1; display: flex; flex-direction: column; gap: 8px; min-width: 0; }
.field { display: flex; flex-direction: column; gap: 4px; color: var(--muted); }
.check { display: flex; gap: 6px; align-items: center; }
.row { display: flex; gap: 6px; align-items: center; }
.slider { display: flex; gap: 8px; align-items: center; }
.slider input[type=range] { flex: 1; }
.slider input[type=number] { width: 90px; }
.accordion { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; display: flex; flex-direction: column; gap: 6px; }
.accordion[open] { padding-bottom: 10px; }
.accordion summary { cursor: pointer; font-weight: 600; }
.progress { position: relative; height: 24px; background: var(--panel); border-radius: 6px; overflow: hidden; }
.progress .bar { position: absolute; inset: 0 auto 0 0; background: var(--accent); opacity: .6; }
.progress span { position: relative; padding: 0 8px; line-height: 24px; }
.gallery img.main, img.preview { max-width: 100%; image-rendering: pixelated; width: 384px; border-radius: 6px; }
img.init { max-width: 256px; border-radius: 6px; }
.thumbs { display: flex; gap: 6px; flex-wrap: wrap; }
.thumb { padding: 2px; display: flex; flex-direction: column; align-items: center; }
.thumb img { width: 64px; height: 64px; image-rendering: pixelated; }
.thumb.sel { border-color: var(--accent); }
pre.infotext { white-space: pre-wrap; background: var(--panel); padding: 8px; border-radius: 6px; }
.error { color: #f87171; }
.ok { color: #4ade80; }
.panel { display: flex; flex-direction: column; gap: 8px; max-width: 560px; }
.panel label { display: flex; flex-direction: column; gap: 4px; color: var(--muted); }
.panel label.check { flex-direction: row; }
figure.chart { margin: 0; background: var(--panel); border-radius: 6px; padding: 6px; width: fit-content; }
figure.chart text { fill: var(--muted); font-size: 9px; }
figure.chart text.title { fill: var(--fg); font-size: 11px; }
figure.chart line.grid { stroke: var(--line); }
figure.chart figcaption { color: var(--muted); font-size: 11px; }
.charts { display: flex; flex-wrap: wrap; gap: 8px; }
`;
