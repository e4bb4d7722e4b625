/**
 * The demo's styles, injected once by `mountDemo` so an embedding page gets them too; every rule
 * is scoped under `.aekit-demo`. One column on a phone, panels side by side from about 46rem.
 */
export const DEMO_CSS = `
.aekit-demo { --line: #d5d9e0; --muted: #555d69; --accent: #1f5fd1; --warn: #8a5a00; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2026; }
.aekit-demo *, .aekit-demo *::before, .aekit-demo *::after { box-sizing: border-box; }
.aekit-demo h2 { font-size: 1rem; margin: 0 0 .5rem; }
.aekit-demo .bar { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; margin: 0 0 1rem; }
.aekit-demo { container-type: inline-size; }
.aekit-demo .panels { display: grid; gap: 1rem; grid-template-columns: minmax(0, 1fr); align-items: start; }
.aekit-demo .panel { border: 1px solid var(--line); border-radius: 10px; padding: .8rem; background: #fff; min-width: 0; }
.aekit-demo .panel[hidden] { display: none; }
.aekit-demo canvas.px { display: block; width: 100%; height: auto; image-rendering: pixelated; background: #000; border-radius: 4px; }
.aekit-demo .pad { display: block; width: 100%; height: auto; touch-action: none; cursor: crosshair; background: #000; border-radius: 6px; outline: 2px dashed transparent; }
.aekit-demo .pad.drop { outline-color: var(--accent); }
.aekit-demo .draw-row { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: .8rem; align-items: start; }
.aekit-demo .solo { max-width: 300px; }
.aekit-demo .samples canvas { max-width: 360px; }
.aekit-demo .strip canvas { max-width: 560px; }
.aekit-demo figure { margin: 0; }
.aekit-demo figcaption { font-size: 13px; color: var(--muted); text-align: center; margin-top: .2rem; }
.aekit-demo .tools { display: flex; flex-wrap: wrap; gap: .4rem .6rem; align-items: center; margin: .6rem 0 0; }
.aekit-demo button, .aekit-demo select, .aekit-demo input[type=number], .aekit-demo .file { font: inherit; min-height: 2.25rem; padding: .2rem .7rem; border: 1px solid #b9c0cb; border-radius: 6px; background: #f6f7f9; color: inherit; }
.aekit-demo button:hover, .aekit-demo .file:hover { background: #eceef2; }
.aekit-demo button[aria-pressed=true] { background: var(--accent); border-color: var(--accent); color: #fff; }
.aekit-demo input[type=number] { width: 9rem; background: #fff; }
.aekit-demo .file { display: inline-flex; align-items: center; cursor: pointer; }
.aekit-demo .file input { position: absolute; width: 1px; height: 1px; opacity: 0; }
.aekit-demo .file:focus-within { outline: 3px solid var(--accent); outline-offset: 2px; }
.aekit-demo :focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.aekit-demo .sliders { display: grid; grid-template-columns: 2.6rem minmax(0, 1fr) 3.4rem; gap: .1rem .5rem; align-items: center; }
.aekit-demo .sliders input { width: 100%; min-height: 1.8rem; }
.aekit-demo .sliders output { font: 13px ui-monospace, monospace; text-align: right; }
.aekit-demo details { margin-top: .4rem; }
.aekit-demo summary { cursor: pointer; color: var(--accent); min-height: 1.8rem; }
.aekit-demo fieldset { border: 1px solid var(--line); border-radius: 6px; margin: .4rem 0 0; padding: .3rem .5rem; }
.aekit-demo legend { font-size: 13px; color: var(--muted); }
.aekit-demo .chips { display: flex; flex-wrap: wrap; gap: .25rem; }
.aekit-demo .chips label { position: relative; }
.aekit-demo .chips input { position: absolute; opacity: 0; inset: 0; }
.aekit-demo .chips span { display: inline-block; min-width: 2rem; padding: .25rem .4rem; text-align: center; border: 1px solid #b9c0cb; border-radius: 5px; font: 13px ui-monospace, monospace; }
.aekit-demo .chips input:checked + span { background: var(--accent); border-color: var(--accent); color: #fff; }
.aekit-demo .chips input:focus-visible + span { outline: 3px solid var(--accent); outline-offset: 1px; }
.aekit-demo .map-wrap { position: relative; max-width: 480px; }
.aekit-demo .map-wrap canvas { cursor: pointer; }
.aekit-demo .marker { position: absolute; border: 2px solid #ff4d6d; border-radius: 2px; pointer-events: none; }
.aekit-demo .strip canvas, .aekit-demo .samples canvas { cursor: pointer; }
.aekit-demo .note { color: var(--muted); font-size: 13px; margin: .4rem 0 0; }
.aekit-demo .note.warn { color: var(--warn); }
.aekit-demo .status { font: 13px/1.4 ui-monospace, monospace; white-space: pre-wrap; flex: 1 1 20rem; }
.aekit-demo[data-state=error] .status { color: #b00020; }
@container (max-width: 30rem) { .aekit-demo .draw-row { grid-template-columns: 1fr 1fr; } .aekit-demo .draw-row > figure:first-child { grid-column: 1 / -1; } }
@container (min-width: 46rem) { .aekit-demo .panels { grid-template-columns: repeat(2, minmax(0, 1fr)); } .aekit-demo .panel.draw { grid-column: 1 / -1; } }
@container (min-width: 68rem) { .aekit-demo .panels { grid-template-columns: repeat(3, minmax(0, 1fr)); } .aekit-demo .panel.draw { grid-column: span 2; } }
`;
