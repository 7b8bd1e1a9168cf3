/** Presentation of run output in the CLI (the library logs everything; the CLI keeps the default output short). */

/**
 * The backend choice in one short line: `device auto: tudui-native (oneDNN 2.6.3, 2 OpenMP threads); unavailable:
 * tfjs-node-gpu, webgpu (tudui devices says why)` instead of every skipped backend's full reason. Other lines pass.
 */
export function shortDeviceLine(line: string): string {
  const m = /^device (\w+): using ([\w.-]+): (.*?)(?: \(skipped: (.*)\))?(\n?)$/s.exec(line);
  if (!m) return line;
  const [, device, name, description, skipped, nl] = m;
  const prefix = `${name} (`;
  let detail = description!;
  if (detail.startsWith(prefix)) {
    const colon = detail.indexOf('): ');
    if (colon >= 0) detail = detail.slice(colon + 3);
  }
  const names = skipped ? [...skipped.matchAll(/(?:^|; )([a-z][\w.-]*): /g)].map((x) => x[1]!) : [];
  const unavailable = names.length ? `; unavailable: ${names.join(', ')} (tudui devices says why)` : '';
  return `device ${device}: ${name} (${detail})${unavailable}${nl}`;
}

/** process.stdout for runExperiment, with the device line shortened unless `verbose`. */
export function runOutput(verbose: boolean): { write(s: string): boolean; isTTY?: boolean; columns?: number } {
  return {
    isTTY: process.stdout.isTTY,
    get columns() {
      return process.stdout.columns;
    },
    write: (s: string) => process.stdout.write(verbose ? s : s.startsWith('device ') ? shortDeviceLine(s) : s),
  };
}
