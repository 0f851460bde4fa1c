// The page's stylesheet: a compact dark layout in the spirit of A1111's Gradio UI.
export const STYLE = `
:root { color-scheme: dark; --bg:#0b0f19; --panel:#1f2937; --line:#374151; --fg:#e5e7eb; --muted:#9ca3af;
  --accent:#ea580c; font: 14px system-ui, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 24px; padding: 8px 16px; border-bottom: 1px solid var(--line); }
header nav { flex-basis: 100%; }
.checkpoint { display: flex; align-items: center; gap: 8px; color: var(--muted); flex-wrap: wrap; }
.checkpoint select { min-width: 200px; max-width: 100%; }
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
.actions > .row { align-items: stretch; }
.actions > .row > button { flex: 1; font-size: 15px; }
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
.slider input.number { width: 90px; }
select { max-width: 100%; }
input.number { width: 100%; min-width: 0; }
.accordion { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; display: flex; flex-direction: column; gap: 6px; }
.accordion[open] { padding-bottom: 10px; }
.accordion summary { cursor: pointer; font-weight: 600; }
.progress { position: relative; height: 24px; background: var(--panel); border-radius: 6px; overflow: hidden; }
.progress .bar { position: absolute; inset: 0 auto 0 0; background: var(--accent); opacity: .6; }
.progress span { position: relative; padding: 0 8px; line-height: 24px; }
.gallery img.main, img.preview { width: 100%; max-width: 512px; border-radius: 6px; cursor: zoom-in; }
.prompt { position: relative; }
.prompt textarea { padding-right: 64px; }
.prompt .tokens { position: absolute; top: 4px; right: 8px; color: var(--muted); font-size: 12px; background: var(--bg); padding: 0 4px; border-radius: 4px; }
.prompt .tokens.over { color: #f87171; }
input.invalid { border-color: #f87171; outline: 1px solid #f87171; }
svg.icon { vertical-align: middle; }
button.tool { display: inline-flex; align-items: center; justify-content: center; }
a.button, button { display: inline-flex; gap: 6px; align-items: center; justify-content: center; }
.row.wrap { flex-wrap: wrap; }
.drop { border: 1px dashed var(--line); border-radius: 6px; padding: 8px; display: flex; flex-direction: column; gap: 6px; color: var(--muted); }
.drop.over { border-color: var(--accent); background: #ea580c22; }
.lightbox { position: fixed; inset: 0; background: #000d; display: flex; align-items: center; justify-content: center; z-index: 10; cursor: zoom-out; }
.lightbox img { max-width: 96vw; max-height: 96vh; object-fit: contain; min-width: min(512px, 96vw); }
.lightbox .close { position: absolute; top: 12px; right: 12px; }
img.init { max-width: 256px; border-radius: 6px; }
.thumbs { display: flex; gap: 6px; flex-wrap: wrap; }
.thumb { padding: 2px; display: flex; flex-direction: column; align-items: center; }
.thumb img { width: 64px; height: 64px; object-fit: cover; }
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
fieldset { border: none; padding: 0; margin: 0; }
.uploads { display: flex; flex-direction: column; gap: 8px; }
.uploads input[type=file] { max-width: 100%; }
.report table { border-collapse: collapse; width: 100%; font-size: 13px; }
.report td, .report th { text-align: left; padding: 2px 8px 2px 0; border-bottom: 1px solid var(--line); }
.report tr.outlier td { color: #fbbf24; }
.report code { word-break: break-all; }
figure.chart svg { max-width: 100%; height: auto; }
.legend { display: flex; gap: 10px; flex-wrap: wrap; font-size: 11px; color: var(--muted); }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
.script { display: flex; flex-direction: column; gap: 8px; }
.xyz { display: flex; flex-direction: column; gap: 8px; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
.xyz-row { display: flex; gap: 8px; flex-wrap: wrap; align-items: flex-end; }
.xyz-row > .field:first-child { flex: 0 1 190px; min-width: 120px; }
.xyz-row .grow { flex: 1 1 200px; min-width: 0; }
.xyz-row .grow input { flex: 1; min-width: 0; }
/* Below ~900 px the form and the output stack, every control full width. */
@media (max-width: 900px) {
  main { padding: 8px; }
  header { padding: 8px; }
  .top, .columns { flex-direction: column; align-items: stretch; }
  .actions { width: 100%; min-height: 44px; }
  .settings, .settings.narrow, .panel { max-width: none; width: 100%; }
  .slider input[type=range] { min-width: 0; }
  .output { width: 100%; }
  nav button { padding: 6px 8px; }
}
`;
