/** The board's HTML shell and style sheet; the page itself is src/board/page (compiled to dist/board/page). */
const STYLE = `
:root { font: 13px/1.35 system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
body { margin: 0; }
header { display: flex; gap: 16px; align-items: center; padding: 6px 12px; background: #1d2330; color: #eef; }
header b { font-size: 15px; }
header nav a { color: #cdd; margin-right: 10px; cursor: pointer; text-decoration: none; padding: 2px 6px; border-radius: 3px; }
header nav a.on { background: #3b4660; color: #fff; }
#live { margin-left: auto; font-size: 12px; color: #9c9; }
main { display: flex; height: calc(100vh - 34px); }
aside { width: 44%; min-width: 360px; max-width: 760px; overflow: auto; border-right: 1px solid #d5d8de; background: #fff; }
#view { flex: 1; overflow: auto; padding: 8px 12px; }
.bar { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; padding: 6px 8px; position: sticky; top: 0; background: #fff; border-bottom: 1px solid #e3e5e9; z-index: 2; }
#view .bar { background: #f6f7f9; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 2px 6px; text-align: left; white-space: nowrap; border-bottom: 1px solid #eef0f3; }
th { position: sticky; top: 37px; background: #fafbfc; cursor: pointer; user-select: none; font-weight: 600; z-index: 1; }
th.sorted::after { content: ' ▾'; } th.sorted.asc::after { content: ' ▴'; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.hidden td { color: #aab; }
tr.brushed td { background: #fff7d6; }
.sw { display: inline-block; width: 10px; height: 10px; border-radius: 2px; vertical-align: middle; }
.st { padding: 0 5px; border-radius: 8px; font-size: 11px; }
.st-running { background: #d8ecff; color: #0b5cad; } .st-completed { background: #dcf3e0; color: #1b6b2a; }
.st-failed, .st-diverged { background: #fde0e0; color: #a11; } .st-interrupted, .st-unknown, .st-pending { background: #eee; color: #555; }
.changed { animation: flash 1.2s; } @keyframes flash { from { background: #ffe58a; } to { background: transparent; } }
a.run { color: #1d4ed8; cursor: pointer; text-decoration: none; } a.run:hover { text-decoration: underline; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 10px; }
.chart { background: #fff; border: 1px solid #e0e3e8; border-radius: 4px; padding: 4px; position: relative; }
.chart h3 { margin: 2px 6px; font-size: 13px; font-weight: 600; }
.chart .info { position: absolute; right: 8px; top: 4px; font-size: 11px; color: #555; }
.tip { position: fixed; pointer-events: none; background: #fff; border: 1px solid #ccd; padding: 3px 6px; font-size: 12px; z-index: 5; display: none; box-shadow: 0 1px 4px #0002; }
pre { background: #fff; border: 1px solid #e0e3e8; padding: 8px; overflow: auto; max-height: 50vh; }
h2 { font-size: 15px; margin: 12px 0 6px; }
.kv td:first-child { color: #556; }
.diff-old { color: #a11; } .diff-new { color: #1b6b2a; }
.panel { background: #fff; border: 1px solid #e0e3e8; border-radius: 4px; padding: 6px; margin-bottom: 10px; }
.muted { color: #778; }
`;

/**
 * The page: its modules preloaded (fetched together, not one import after another), uPlot deferred (it runs before
 * the app, in document order), and the runs table's data (/api/runs as it is now) in a JSON block, `<` escaped so
 * that no text in it can close the element.
 */
export function pageHtml(modules: string[], runs: unknown): string {
  const boot = JSON.stringify(runs).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tudui board</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/vendor/uPlot.min.css">
${modules.map((m) => `<link rel="modulepreload" href="${m}">`).join('\n')}
<style>${STYLE}</style>
<script defer src="/vendor/uPlot.iife.min.js"></script>
<script type="module" src="/app/app.js"></script>
<script type="application/json" id="boot">${boot}</script>
</head><body>
<header><b>tudui board</b><span id="dir" class="muted"></span>
<nav id="tabs"><a data-view="charts">Charts</a><a data-view="sweep">Sweep</a><a data-view="diff">Compare</a><a data-view="run">Run</a></nav>
<span id="live"></span></header>
<main><aside id="runs"></aside><section id="view"></section></main>
<div class="tip" id="tip"></div>
</body></html>
`;
}
