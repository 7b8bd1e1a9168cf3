/** YAML parsing with source positions, and mapping key paths back to `line:col`. */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair } from 'yaml';
import type { Seg } from './paths.js';

export interface Source {
  file: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export interface Pos {
  line: number;
  col: number;
}

export function parseSource(file: string, text: string): Source {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, strict: true, merge: true });
  return { file, text, doc, lines };
}

export function posOf(src: Source, offset: number): Pos {
  const p = src.lines.linePos(offset);
  return { line: p.line, col: p.col };
}

function findPair(map: Node, key: Seg): Pair<unknown, unknown> | undefined {
  if (!isMap(map)) return undefined;
  return map.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(key)) as Pair<unknown, unknown> | undefined;
}

/**
 * Position of the key (or value) at `path`; falls back to the deepest existing ancestor, or undefined when the path
 * leads only through nodes created in memory (overrides).
 */
export function locate(src: Source, path: readonly Seg[], at: 'key' | 'value'): Pos | undefined {
  let node = src.doc.contents as Node | null;
  let best: number | undefined = node?.range?.[0];
  for (let i = 0; i < path.length && node; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isSeq(node) && typeof seg === 'number') {
      node = (node.items[seg] as Node | undefined) ?? null;
      if (node?.range) best = node.range[0];
      continue;
    }
    const pair = findPair(node, seg);
    if (!pair) break;
    const keyNode = pair.key as Node;
    const valueNode = pair.value as Node | null;
    if (keyNode?.range) best = keyNode.range[0];
    if (last && at === 'key') break;
    if (valueNode?.range) best = valueNode.range[0];
    else if (last) break;
    node = valueNode;
  }
  if (best === undefined) return undefined;
  return posOf(src, best);
}

/** Position of the node at the exact path, only if it exists in the file (not created by an override). */
export function exactNode(src: Source, path: readonly Seg[]): Node | undefined {
  let node = src.doc.contents as Node | null;
  for (const seg of path) {
    if (!node) return undefined;
    if (isSeq(node) && typeof seg === 'number') node = (node.items[seg] as Node | undefined) ?? null;
    else {
      const pair = findPair(node, seg);
      node = (pair?.value as Node | null) ?? null;
    }
  }
  return node ?? undefined;
}
