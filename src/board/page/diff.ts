/// <reference lib="dom" />
/** Config diff of two runs: key paths (as for `--set`) whose values differ, or every key; final metrics side by side. */
import { esc, getJson, num, type Row, type State } from './util.js';

export async function renderDiff(root: HTMLElement, rows: Row[], state: State, changed: () => void): Promise<void> {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const pick = (id: string, fallback: number) => byId.get(id) ?? rows[fallback];
  const a = pick(state.a, 0);
  const b = pick(state.b, 1);
  const options = (sel: Row | undefined) => rows.map((r) => `<option value="${esc(r.id)}" ${r === sel ? 'selected' : ''}>${esc(r.id)}</option>`).join('');
  root.innerHTML = `<div class="bar">A <select id="diff-a">${options(a)}</select> B <select id="diff-b">${options(b)}</select>
    <label><input type="checkbox" id="diff-all" ${state.all ? 'checked' : ''}> all keys</label></div><div id="diff-body" class="panel"></div>`;
  const bind = (id: string, set: (v: string) => void) => {
    const e = root.querySelector<HTMLSelectElement | HTMLInputElement>(id)!;
    e.onchange = () => {
      set(e instanceof HTMLInputElement && e.type === 'checkbox' ? String(e.checked) : e.value);
      changed();
    };
  };
  bind('#diff-a', (v) => (state.a = v));
  bind('#diff-b', (v) => (state.b = v));
  bind('#diff-all', (v) => (state.all = v === 'true'));
  const body = root.querySelector<HTMLElement>('#diff-body')!;
  if (!a || !b) {
    body.innerHTML = '<p class="muted">Two runs are needed.</p>';
    return;
  }
  const cfg = await getJson<Record<string, Record<string, unknown>>>(`/api/configs?keys=${a.key},${b.key}`);
  const ca = cfg[a.key] ?? {};
  const cb = cfg[b.key] ?? {};
  const keys = [...new Set([...Object.keys(ca), ...Object.keys(cb)])].sort();
  const show = (v: unknown) => (v === undefined ? '<span class="muted">—</span>' : esc(JSON.stringify(v)));
  const lines = keys
    .map((k) => ({ k, x: ca[k], y: cb[k], same: JSON.stringify(ca[k]) === JSON.stringify(cb[k]) }))
    .filter((l) => state.all || !l.same)
    .map((l) => `<tr class="${l.same ? '' : 'differs'}"><td><code>${esc(l.k)}</code></td><td class="${l.same ? '' : 'diff-old'}">${show(l.x)}</td><td class="${l.same ? '' : 'diff-new'}">${show(l.y)}</td></tr>`);
  const metrics = [...new Set([...Object.keys(a.final), ...Object.keys(b.final)])];
  body.innerHTML = `<h2>Config ${state.all ? '' : '(changed keys)'}</h2><table id="diff-table"><thead><tr><th>key</th><th>A: ${esc(a.id)}</th><th>B: ${esc(b.id)}</th></tr></thead>
    <tbody>${lines.join('') || '<tr><td colspan="3" class="muted">the configs are identical</td></tr>'}</tbody></table>
    <h2>Final metrics</h2><table><thead><tr><th>metric</th><th>A</th><th>B</th></tr></thead><tbody>
    ${metrics.map((m) => `<tr><td>${esc(m)}</td><td class="num">${num(a.final[m])}</td><td class="num">${num(b.final[m])}</td></tr>`).join('')}
    <tr><td>best</td><td class="num">${a.best ? `${num(a.best.value)} @${a.best.epoch}` : ''}</td><td class="num">${b.best ? `${num(b.best.value)} @${b.best.epoch}` : ''}</td></tr></tbody></table>`;
}
