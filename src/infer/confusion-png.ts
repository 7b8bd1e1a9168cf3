/**
 * The confusion matrix as a PNG: an SVG heat map (rows: true class, columns: predicted; each cell shaded by the
 * share of its row, with its count when the cell is large enough) rasterised by sharp (librsvg), written atomically.
 */
import { writeFileAtomic } from '../fs/atomic.js';

const esc = (s: string) => s.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

export function confusionSvg(confusion: number[][], names: string[], title: string): string {
  const n = confusion.length;
  const cell = Math.max(8, Math.min(48, Math.floor(720 / Math.max(1, n))));
  const label = Math.min(160, 12 + 7 * Math.max(1, ...names.map((s) => Math.min(s.length, 20))));
  const left = label + 24;
  const top = label + 48;
  const width = left + n * cell + 16;
  const height = top + n * cell + 16;
  const font = Math.max(7, Math.min(13, Math.floor(cell / 3)));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="8" y="18" font-size="14">${esc(title)}</text>`,
    `<text x="${left}" y="36" font-size="11" fill="#444">predicted →</text>`,
    `<text x="8" y="${top - 6}" font-size="11" fill="#444">true ↓</text>`,
  ];
  for (let i = 0; i < n; i++) {
    const row = confusion[i]!;
    const total = row.reduce((a, b) => a + b, 0);
    const short = esc(names[i]!.slice(0, 20));
    parts.push(`<text x="${left - 6}" y="${top + i * cell + cell / 2 + font / 3}" font-size="${font}" text-anchor="end">${short}</text>`);
    const cx = left + i * cell + cell / 2;
    parts.push(`<text x="${cx}" y="${top - 6}" font-size="${font}" transform="rotate(-60 ${cx} ${top - 6})">${short}</text>`);
    for (let j = 0; j < n; j++) {
      const share = total ? row[j]! / total : 0;
      // white → blue by the row share; the diagonal in blue, errors in red, so mistakes stand out
      // (errors on a square-root scale: a few mistakes in a large row still show)
      const e = Math.sqrt(share);
      const [r, g, b] = i === j ? [255 - 222 * share, 255 - 153 * share, 255 - 52 * share] : [255 - 35 * e, 255 - 195 * e, 255 - 195 * e];
      const x = left + j * cell;
      const y = top + i * cell;
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="rgb(${r | 0},${g | 0},${b | 0})" stroke="#dddddd"/>`);
      if (cell >= 20 && row[j]) {
        parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + font / 3}" font-size="${font}" text-anchor="middle" fill="${share > 0.6 ? '#ffffff' : '#000000'}">${row[j]}</text>`);
      }
    }
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** Render and write the PNG; returns its size in pixels. */
export async function writeConfusionPng(file: string, confusion: number[][], names: string[], title: string): Promise<{ width: number; height: number }> {
  const { default: sharp } = await import('sharp');
  const { data, info } = await sharp(Buffer.from(confusionSvg(confusion, names, title))).png().toBuffer({ resolveWithObject: true });
  writeFileAtomic(file, data);
  return { width: info.width, height: info.height };
}
