/**
 * Child-process entry for one sweep member (see executor.ts): receives a job over IPC, runs it quietly, reports each
 * epoch and the outcome, and exits. Ctrl-C in the terminal reaches this process too: it interrupts the run (which
 * checkpoints) instead of dying, exactly as an abort message from the parent does.
 */
import type { MemberOutcome, ParentMessage, WorkerMessage } from './executor.js';

const controller = new AbortController();
process.on('SIGINT', () => controller.abort());
process.on('SIGTERM', () => controller.abort());
process.on('disconnect', () => controller.abort()); // the sweep went away: stop cleanly

const send = (msg: WorkerMessage, cb?: () => void) => {
  if (process.connected) process.send!(msg, undefined, {}, () => cb?.());
  else cb?.();
};

process.on('message', (msg: ParentMessage) => {
  if (msg.type === 'abort') {
    controller.abort();
    return;
  }
  if (msg.type !== 'run') return;
  void (async () => {
    const { inProcess } = await import('./executor.js');
    const outcome: MemberOutcome = await inProcess(msg.job, (metrics) => send({ type: 'epoch', metrics }), controller.signal);
    // The summary is in the run directory; send only what the parent needs (small, and clone-safe).
    send({ type: 'done', outcome: { status: outcome.status, error: outcome.error } }, () => process.exit(0));
  })();
});
