/**
 * The live task list of a sweep (listr2): one task per member, shown while members run wherever they run. A
 * launcher gives each member to run a `settle` function that resolves when the member ended and says how; this
 * module turns the outcome into the list's marks (completed with its final metrics, failed with its error, skipped
 * when interrupted or cancelled).
 */
import { join } from 'node:path';
import { Listr, type ListrTask } from 'listr2';
import { readSummary } from '../run/layout.js';
import type { EpochMetrics } from '../train/loop.js';
import type { ManifestMember } from './manifest.js';
import type { SweepOptions, Work } from './types.js';

/**
 * Runs (or waits for) one member, showing progress through `line`, and records its outcome in the manifest member;
 * resolves false when it never started (the sweep was stopped first).
 */
export type RunMember = (work: Work, line: (text: string) => void) => Promise<boolean>;

export interface LiveListOptions {
  renderer: NonNullable<SweepOptions['renderer']>;
  concurrency: number;
  sweepDir: string;
  /** Why members that never started were skipped. */
  notStarted: () => string;
}

export function plainOutput(renderer: LiveListOptions['renderer']): boolean {
  return renderer === 'plain' || (renderer === 'auto' && !process.stdout.isTTY);
}

export async function liveList(members: ManifestMember[], work: Work[], run: RunMember, o: LiveListOptions): Promise<void> {
  const total = members.length;
  const tasks: ListrTask[] = members.map((member) => {
    const w = work.find((x) => x.member === member);
    const title = `[${member.index + 1}/${total}] ${member.label}`;
    if (!w) return { title, skip: () => 'completed earlier', task: () => {} };
    return {
      title,
      task: async (_ctx, task) => {
        const started = await run(w, (text) => (task.output = text));
        if (!started) return task.skip(`not started (${o.notStarted()})`);
        if (member.status === 'failed') throw new Error((member.error ?? 'failed').split('\n')[0]);
        if (member.status === 'completed') task.title = `${title}: ${describe(join(o.sweepDir, member.run_dir))}`;
        else task.skip(`${member.status}; continue with: tudui sweep --resume ${o.sweepDir}`);
      },
    };
  });
  const list = new Listr(tasks, {
    concurrent: o.concurrency,
    exitOnError: false,
    registerSignalListeners: false,
    renderer: o.renderer === 'silent' ? 'silent' : o.renderer === 'plain' ? 'simple' : 'default',
    fallbackRenderer: o.renderer === 'silent' ? 'silent' : 'simple',
    ...(o.renderer === 'tty' ? { forceTTY: true } : {}),
    rendererOptions: { collapseErrors: false, collapseSkips: false, showErrorMessage: true, showSkipMessage: true, suffixSkips: false },
    fallbackRendererOptions: { timestamp: undefined },
  } as ConstructorParameters<typeof Listr>[1]);
  try {
    await list.run();
  } catch {
    // members' failures are recorded in the manifest; listr only rethrows them
  }
}

/** One epoch as the list shows it. */
export function epochLine(m: Pick<EpochMetrics, 'epoch' | 'train_loss' | 'test_loss' | 'test_accuracy' | 'val_loss' | 'val_accuracy'>): string {
  const [split, loss, acc] = m.val_loss !== undefined ? ['val', m.val_loss, m.val_accuracy] : ['test', m.test_loss, m.test_accuracy];
  return `epoch ${m.epoch}: loss ${fmt(m.train_loss)}, ${split} loss ${fmt(loss ?? NaN)}, ${split} acc ${((acc ?? NaN) * 100).toFixed(2)}%`;
}

/** A completed member's final metrics and time, from its summary. */
export function describe(runDir: string): string {
  const s = readSummary(runDir);
  if (!s) return 'completed';
  const acc = s.final?.test_accuracy;
  const loss = s.final?.test_loss;
  const t = s.durations?.total_s;
  return [acc !== undefined ? `test acc ${(acc * 100).toFixed(2)}%` : '', loss !== undefined ? `test loss ${fmt(loss)}` : '', t !== undefined ? `${t.toFixed(1)}s` : '']
    .filter(Boolean)
    .join(', ');
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(4) : String(v);
}
