/// <reference lib="dom" />
/** The runs table: the columns of `tudui ls`, sortable, filtered by a regular expression, a colour and a show box per run. */
import { colorOf, duration, esc, num, type Row, type State } from './util.js';

interface Column {
  id: string;
  label: string;
  value: (r: Row) => number | string | null;
  show?: (r: Row) => string;
  numeric?: boolean;
}

const monitor = (r: Row) => r.best?.metric ?? 'test_accuracy';

export const COLUMNS: Column[] = [
  { id: 'name', label: 'run', value: (r) => r.id },
  { id: 'status', label: 'status', value: (r) => r.status, show: (r) => `<span class="st st-${esc(r.status)}" title="${esc(r.reason ?? '')}">${esc(r.status)}</span>` },
  { id: 'started', label: 'started', value: (r) => r.started_at, show: (r) => esc((r.started_at ?? '').replace('T', ' ').slice(0, 19)) },
  { id: 'duration', label: 'time', value: (r) => r.duration_s, show: (r) => duration(r.duration_s), numeric: true },
  { id: 'epochs', label: 'epochs', value: (r) => r.epochs_completed, show: (r) => (r.epochs_completed === null ? '' : `${r.epochs_completed}/${r.epochs ?? '?'}`), numeric: true },
  { id: 'final', label: 'final', value: (r) => r.final[monitor(r)] ?? null, show: (r) => num(r.final[monitor(r)]), numeric: true },
  { id: 'best', label: 'best', value: (r) => r.best?.value ?? null, show: (r) => (r.best ? `${num(r.best.value)} <span class="muted">@${r.best.epoch}</span>` : ''), numeric: true },
  { id: 'train_loss', label: 'train_loss', value: (r) => r.final.train_loss ?? null, show: (r) => num(r.final.train_loss), numeric: true },
  { id: 'ips', label: 'img/s', value: (r) => r.images_per_s, show: (r) => (r.images_per_s === null ? '' : Math.round(r.images_per_s).toString()), numeric: true },
  { id: 'backend', label: 'backend', value: (r) => r.backend },
];

/** Rows passing the filter (a case-insensitive regular expression over id, name, status and sweep; bad syntax: plain text). */
export function filterRows(rows: Row[], filter: string): Row[] {
  if (!filter) return rows;
  let re: RegExp;
  try {
    re = new RegExp(filter, 'i');
  } catch {
    re = new RegExp(filter.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
  }
  return rows.filter((r) => re.test(`${r.id} ${r.name} ${r.status} ${r.sweep ?? ''}`));
}

export function sortRows(rows: Row[], sort: string, asc: boolean): Row[] {
  const col = COLUMNS.find((c) => c.id === sort);
  if (!col) return rows;
  const dir = asc ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = col.value(a);
    const y = col.value(b);
    if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
    if (y === null || y === undefined) return -1;
    return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
  });
}

export interface TableHandlers {
  changed(what: 'visibility' | 'sort' | 'filter'): void;
  open(row: Row): void;
}

/** Renders the table into `root`; the state's hidden set, sort and filter are updated in place. */
export function renderTable(root: HTMLElement, rows: Row[], state: State, on: TableHandlers, flash = new Set<number>()): void {
  const shown = sortRows(filterRows(rows, state.filter), state.sort, state.asc);
  const focused = document.activeElement?.id === 'filter';
  const head = COLUMNS.map((c) => `<th data-sort="${c.id}" class="${state.sort === c.id ? `sorted${state.asc ? ' asc' : ''}` : ''}">${esc(c.label)}</th>`).join('');
  const body = shown
    .map((r) => {
      const on = !state.hidden.has(r.id);
      const cells = COLUMNS.map((c) => {
        const inner = c.id === 'name' ? `<a class="run" data-open="${r.key}" title="${esc(r.name)}">${esc(r.id)}</a>` : c.show ? c.show(r) : esc(c.value(r));
        return `<td class="${c.numeric ? 'num' : ''}">${inner}</td>`;
      }).join('');
      return `<tr data-key="${r.key}" class="${on ? '' : 'hidden'}${flash.has(r.key) ? ' changed' : ''}"><td><input type="checkbox" data-show="${r.key}" ${on ? 'checked' : ''}></td><td><span class="sw" style="background:${colorOf(r.id)}"></span></td>${cells}</tr>`;
    })
    .join('');
  root.innerHTML = `<div class="bar"><input id="filter" placeholder="filter runs (regex)" size="24" value="${esc(state.filter)}">
    <button data-act="all">show all</button><button data-act="none">hide all</button><button data-act="only">only these</button>
    <span class="muted" id="count">${shown.length} of ${rows.length} runs, ${rows.filter((r) => !state.hidden.has(r.id)).length} shown</span></div>
    <table id="runs-table"><thead><tr><th></th><th></th>${head}</tr></thead><tbody>${body}</tbody></table>`;
  const filter = root.querySelector<HTMLInputElement>('#filter')!;
  if (focused) {
    filter.focus();
    filter.setSelectionRange(filter.value.length, filter.value.length);
  }
  filter.oninput = () => {
    state.filter = filter.value;
    on.changed('filter');
  };
  root.querySelectorAll<HTMLElement>('th[data-sort]').forEach((th) => {
    th.onclick = () => {
      const id = th.dataset.sort!;
      if (state.sort === id) state.asc = !state.asc;
      else (state.sort = id), (state.asc = false);
      on.changed('sort');
    };
  });
  const byKey = new Map(rows.map((r) => [r.key, r]));
  root.querySelectorAll<HTMLInputElement>('input[data-show]').forEach((cb) => {
    cb.onchange = () => {
      const r = byKey.get(Number(cb.dataset.show))!;
      if (cb.checked) state.hidden.delete(r.id);
      else state.hidden.add(r.id);
      on.changed('visibility');
    };
  });
  root.querySelectorAll<HTMLElement>('a[data-open]').forEach((a) => {
    a.onclick = () => on.open(byKey.get(Number(a.dataset.open))!);
  });
  root.querySelectorAll<HTMLButtonElement>('button[data-act]').forEach((b) => {
    b.onclick = () => {
      const act = b.dataset.act;
      const ids = new Set(shown.map((r) => r.id));
      for (const r of rows) {
        const show = act === 'all' ? true : act === 'none' ? false : ids.has(r.id);
        if (show) state.hidden.delete(r.id);
        else state.hidden.add(r.id);
      }
      on.changed('visibility');
    };
  });
}
