/** File-system-safe, unique directory names for sweep members. */
import { createHash } from 'node:crypto';

const MAX = 120;
const RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)$/i;

/**
 * Keep letters, digits and `._,=+-@`; everything else (path separators, spaces, quotes, colons...) becomes `_`.
 * Long names are cut and given a short hash of the full label, so they stay distinct.
 */
export function safeName(label: string): string {
  let s = label.normalize('NFC').replace(/[^A-Za-z0-9._,=+@-]+/g, '_').replace(/^[.\-_]+/, '').replace(/[. ]+$/, '');
  if (s === '' || RESERVED.test(s)) s = `member${s ? `_${s}` : ''}`;
  if (s.length > MAX) {
    const hash = createHash('sha1').update(label).digest('hex').slice(0, 8);
    s = `${s.slice(0, MAX - 9)}~${hash}`;
  }
  return s;
}

/** Distinct names: the second `x` becomes `x-2`, and so on (compared case-insensitively for macOS/Windows). */
export function uniqueNames(labels: string[]): string[] {
  const used = new Set<string>();
  return labels.map((label) => {
    const base = safeName(label);
    let name = base;
    for (let n = 2; used.has(name.toLowerCase()); n++) name = `${base}-${n}`;
    used.add(name.toLowerCase());
    return name;
  });
}
