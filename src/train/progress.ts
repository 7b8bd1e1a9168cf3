/** Progress output: a live bar on a terminal, one plain line per epoch elsewhere (logs, CI, pipes). */

export interface EpochReport {
  epoch: number;
  epochs: number;
  trainLoss: number;
  /** The evaluated split's loss and accuracy: test, or val with dataset.validation (`split`). */
  testLoss: number;
  testAccuracy: number;
  split?: 'val' | 'test';
  trainImagesPerSec: number;
  evalImagesPerSec: number;
  seconds: number;
  lr: number;
}

export interface Progress {
  epochStart(epoch: number, epochs: number, steps: number): void;
  step(step: number, loss: number, imagesPerSec: number): void;
  evaluating(): void;
  epochEnd(report: EpochReport): void;
}

export function formatEpoch(r: EpochReport): string {
  const s = r.split ?? 'test';
  return (
    `epoch ${r.epoch}/${r.epochs}  train_loss ${r.trainLoss.toFixed(4)}  ${s}_loss ${r.testLoss.toFixed(4)}  ` +
    `${s}_accuracy ${(r.testAccuracy * 100).toFixed(2)}%  ${Math.round(r.trainImagesPerSec)} img/s  ${r.seconds.toFixed(1)}s`
  );
}

function formatTime(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

export function createProgress(stream: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean; columns?: number }, quiet = false): Progress {
  const tty = Boolean(stream.isTTY) && !quiet;
  let epoch = 0;
  let epochs = 0;
  let steps = 0;
  let started = 0;
  let lastDraw = 0;
  return {
    epochStart(e, total, n) {
      epoch = e;
      epochs = total;
      steps = n;
      started = performance.now();
    },
    step(i, loss, ips) {
      if (!tty) return;
      const now = performance.now();
      if (now - lastDraw < 100 && i < steps) return; // redraw at most 10×/s
      lastDraw = now;
      const width = 24;
      const filled = Math.round((i / Math.max(1, steps)) * width);
      const elapsed = (now - started) / 1000;
      const eta = (elapsed / Math.max(1, i)) * (steps - i);
      const line = `epoch ${epoch}/${epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${i}/${steps} ETA ${formatTime(eta)} loss ${loss.toFixed(4)} ${Math.round(ips)} img/s`;
      const cols = (stream as NodeJS.WriteStream).columns ?? 120;
      stream.write(`\r\x1b[2K${line.slice(0, cols - 1)}`);
    },
    evaluating() {
      if (tty) stream.write(`\r\x1b[2Kepoch ${epoch}/${epochs} evaluating…`);
    },
    epochEnd(r) {
      if (quiet) return;
      stream.write(`${tty ? '\r\x1b[2K' : ''}${formatEpoch(r)}\n`);
    },
  };
}
