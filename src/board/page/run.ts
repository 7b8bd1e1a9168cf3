/// <reference lib="dom" />
/** The run page: status, summary, per-epoch history, checkpoints, the config in effect and its accepted changes. */
import { duration, esc, getJson, num, type Row } from './util.js';

interface Detail {
  row: Row;
  summary: Record<string, any> | null;
  config: string | null;
  config_original: string | null;
  config_history: Array<{ time: string; epoch: number; checkpoint: string; changes: Array<{ key: string; old: unknown; new: unknown }> }>;
  error: string | null;
  checkpoints: Array<{ name: string; files: number; bytes: number }>;
  last: string | null;
  best: string | null;
}

const kv = (pairs: Array<[string, string]>) => `<table class="kv">${pairs.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`).join('')}</table>`;

export async function renderRun(root: HTMLElement, row: Row | undefined): Promise<void> {
  if (!row) {
    root.innerHTML = '<p class="muted">Pick a run in the table (click its name).</p>';
    return;
  }
  const d = await getJson<Detail>(`/api/run?key=${row.key}`);
  const s = d.summary ?? {};
  const history: Array<Record<string, number>> = Array.isArray(s.history) ? s.history : [];
  const histCols = history.length ? Object.keys(history[0]!) : [];
  root.innerHTML = `<div class="panel" id="run-page"><h2>${esc(row.id)} <span class="st st-${esc(row.status)}">${esc(row.status)}</span></h2>
    ${row.reason ? `<p>${esc(row.reason)}</p>` : ''}
    ${kv([
      ['name', esc(row.name)],
      ['started', esc(row.started_at ?? '')],
      ['finished', esc(row.finished_at ?? '')],
      ['duration', duration(row.duration_s)],
      ['epochs', `${row.epochs_completed ?? '?'} / ${row.epochs ?? '?'}`],
      ['global step', esc(row.global_step ?? '')],
      ['backend', esc(s.backend_description ?? row.backend ?? '')],
      ['parameters', esc(s.parameters ?? '')],
      ['seed', esc(row.seed ?? '')],
      ['best', row.best ? `${esc(row.best.metric)} ${num(row.best.value)} at epoch ${row.best.epoch}` : ''],
      ...Object.entries(row.final).map(([k, v]) => [`final ${k}`, num(v)] as [string, string]),
      ['images/s (train)', row.images_per_s === null ? '' : String(Math.round(row.images_per_s))],
    ])}</div>
    ${d.error ? `<div class="panel"><h2>error.txt</h2><pre>${esc(d.error)}</pre></div>` : ''}
    <div class="panel"><h2>History</h2><table id="run-history"><thead><tr>${histCols.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>
    <tbody>${history.map((h) => `<tr>${histCols.map((c) => `<td class="num">${num(h[c])}</td>`).join('')}</tr>`).join('')}</tbody></table></div>
    <div class="panel"><h2>Checkpoints</h2><table id="run-checkpoints"><thead><tr><th>checkpoint</th><th>files</th><th>size</th><th></th></tr></thead><tbody>
    ${d.checkpoints.map((c) => `<tr><td>${esc(c.name)}</td><td class="num">${c.files}</td><td class="num">${(c.bytes / 1024).toFixed(1)} KiB</td><td>${[c.name === d.last ? 'last' : '', c.name === d.best ? 'best' : ''].filter(Boolean).join(', ')}</td></tr>`).join('') || '<tr><td colspan="4" class="muted">none</td></tr>'}
    </tbody></table></div>
    ${d.config_history.length ? `<div class="panel"><h2>Accepted config changes</h2>${d.config_history.map((h) => `<p>${esc(h.time)} after epoch ${h.epoch} (from ${esc(h.checkpoint)}): ${h.changes.map((c) => `<code>${esc(c.key)}</code> <span class="diff-old">${esc(JSON.stringify(c.old))}</span> → <span class="diff-new">${esc(JSON.stringify(c.new))}</span>`).join(', ')}</p>`).join('')}</div>` : ''}
    <div class="panel"><h2>config.yaml</h2><pre id="run-config">${esc(d.config ?? '(none)')}</pre></div>`;
}
