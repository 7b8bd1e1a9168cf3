/**
 * The owner of the run directory and the sweep directory: every file name, every on-disk type and every reader.
 * Writers (`run-experiment.ts`, `checkpoint.ts`, `metrics.ts`, `lock.ts`, `src/sweep`) write what these types say,
 * at these paths; readers (`resume`, `ls` / `show` / `compare`, the board, `eval`) read through the functions here and
 * never parse a file themselves. No TensorFlow, no config layer: importing this is cheap.
 *
 * ```
 * RUN/    config.original.yaml  config.yaml  config-history.jsonl  summary.json  metrics.jsonl  error.txt  tudui.lock
 *         events.out.tfevents.*  checkpoints/{epoch-NNNN[-step-NNNNNN]/, last -> …, best -> …}
 * SWEEP/  sweep.json  summary.csv  summary.json  tudui.lock  events.out.tfevents.*  <member>/ (a RUN each)
 * ```
 */
import { closeSync, existsSync, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { pidAlive } from '../fs/atomic.js';

// --- File names -------------------------------------------------------------------------------------------------------

export const SUMMARY_FILE = 'summary.json';
export const METRICS_FILE = 'metrics.jsonl';
export const CONFIG_FILE = 'config.yaml';
export const ORIGINAL_CONFIG = 'config.original.yaml';
export const CONFIG_HISTORY = 'config-history.jsonl';
export const ERROR_FILE = 'error.txt';
export const LOCK_FILE = 'tudui.lock';
export const CHECKPOINTS_DIR = 'checkpoints';
export const EVENT_FILE_PREFIX = 'events.out.tfevents.';
/** The links in `checkpoints/`: the newest checkpoint, and the one with the best monitored metric. */
export const LAST = 'last';
export const BEST = 'best';
export type CheckpointLink = typeof LAST | typeof BEST;

/** Files of one checkpoint directory. */
export const CHECKPOINT_FILES = {
  model: 'model.json',
  weights: 'weights.bin',
  optimizer: 'optimizer.bin',
  optimizerSpec: 'optimizer.json',
  state: 'state.json',
  checksums: 'checksums.json',
} as const;

export const SWEEP_MANIFEST = 'sweep.json';
export const SWEEP_MANIFEST_VERSION = 1;
export const SWEEP_SUMMARY_CSV = 'summary.csv';
export const SWEEP_SUMMARY_JSON = 'summary.json';

/** Every path of a run directory. */
export function runPaths(runDir: string) {
  const checkpoints = join(runDir, CHECKPOINTS_DIR);
  return {
    dir: runDir,
    summary: join(runDir, SUMMARY_FILE),
    metrics: join(runDir, METRICS_FILE),
    config: join(runDir, CONFIG_FILE),
    originalConfig: join(runDir, ORIGINAL_CONFIG),
    configHistory: join(runDir, CONFIG_HISTORY),
    error: join(runDir, ERROR_FILE),
    lock: join(runDir, LOCK_FILE),
    checkpoints,
    last: join(checkpoints, LAST),
    best: join(checkpoints, BEST),
  };
}

/** Every path of a sweep directory (members: `join(dir, member.run_dir)`). */
export function sweepPaths(sweepDir: string) {
  return {
    dir: sweepDir,
    manifest: join(sweepDir, SWEEP_MANIFEST),
    summaryCsv: join(sweepDir, SWEEP_SUMMARY_CSV),
    summaryJson: join(sweepDir, SWEEP_SUMMARY_JSON),
    lock: join(sweepDir, LOCK_FILE),
  };
}

// --- Metric tags (metrics.jsonl and the event files) ------------------------------------------------------------------

/** Scalar tags the training loop writes; every reader (sweep hparams, ls, show, the board) names them through these. */
export const TAGS = {
  /** Per logged step (`log.train_loss_every`), x = global step. */
  trainLoss: 'train_loss',
  lr: 'lr',
  /** Per epoch, x = epoch. */
  testLoss: 'test_loss',
  testAccuracy: 'test_accuracy',
  /** Per epoch on the validation split (dataset.validation), x = epoch; test_* are then logged once, at the end. */
  valLoss: 'val_loss',
  valAccuracy: 'val_accuracy',
  trainLossEpoch: 'train_loss_epoch',
  throughput: 'throughput',
} as const;
export type MetricTag = (typeof TAGS)[keyof typeof TAGS];

/** Tags logged once per epoch with the epoch as their step (the others use the global step). */
export const EPOCH_TAGS: ReadonlySet<string> = new Set([TAGS.testLoss, TAGS.testAccuracy, TAGS.valLoss, TAGS.valAccuracy, TAGS.trainLossEpoch, TAGS.throughput]);


/** Whether a higher value of a tag is better (accuracy, throughput) or a lower one (losses). */
export function higherIsBetter(tag: string): boolean {
  return /acc|throughput|images_per_s/.test(tag);
}

// --- Types of what is on disk -----------------------------------------------------------------------------------------

/** A run's status in `summary.json`. `readStatus` reads a `running` one whose writer is gone as `interrupted`. */
export const RUN_STATUSES = ['running', 'completed', 'failed', 'interrupted', 'diverged'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** What a finished job reports: a run status, or `invalid` (the config did not validate; no directory was made). */
export type OutcomeStatus = Exclude<RunStatus, 'running'> | 'invalid';
/**
 * A sweep member's state in `sweep.json` (a diverged run is a failed member; `pending`: not started yet;
 * `cancelled`: its Slurm task was cancelled or vanished before it recorded a result).
 */
export type MemberStatus = 'pending' | Exclude<RunStatus, 'diverged'> | 'cancelled';
/** A sweep's own state in `sweep.json`. */
export type SweepStatus = Exclude<RunStatus, 'diverged'>;

/** One line of metrics.jsonl. */
export interface MetricPoint {
  tag: string;
  value: number;
  step: number;
  epoch: number;
  wall_time: number;
}

/** One epoch of `summary.json`'s history. */
export interface EpochMetrics {
  epoch: number;
  global_step: number;
  train_loss: number;
  /** Per epoch on the test split; absent with dataset.validation (the test split is evaluated once, at the end). */
  test_loss?: number;
  test_accuracy?: number;
  /** Per epoch on the validation split (dataset.validation). */
  val_loss?: number;
  val_accuracy?: number;
  lr: number;
  train_images_per_sec: number;
  eval_images_per_sec: number;
  seconds: number;
  tensors: number;
}

export interface BestMetric {
  metric: string;
  value: number;
  epoch: number;
}

/** `summary.json` of a run directory, rewritten atomically after every epoch and when the run ends. */
export interface RunSummary {
  name: string;
  status: RunStatus;
  /** Why a run did not complete (failed, interrupted, diverged), one line. */
  reason?: string;
  error?: string;
  /** Where it stopped, for a run that did not complete. */
  stopped_at?: { epoch: number; global_step: number } | null;
  /** Batches skipped because of a non-finite loss (`on_nan: skip`), over the whole run. */
  skipped_batches: number;
  run_dir: string;
  config_hash: string;
  /** Accepted config changes (config-history.jsonl). */
  config_changes: number;
  seed: number;
  device: string;
  backend: string;
  backend_description: string;
  epochs: number;
  epochs_completed: number;
  global_step: number;
  parameters: number;
  final: Record<string, number> | null;
  best: BestMetric | null;
  durations: { total_s: number; epochs_s: number[] };
  throughput: { train_images_per_s: number; eval_images_per_s: number } | null;
  tensors_after_epoch: number[];
  dataset: { name: string; source: string; train: number; test: number } | null;
  started_at: string;
  finished_at: string;
  host: string;
  /** The process that wrote this summary (a `running` summary whose pid is gone reads as `interrupted`). */
  pid: number;
  versions: Record<string, string>;
  history: EpochMetrics[];
  /** With dataset.validation: the test split, evaluated once at the end on the checkpoint `checkpoint` (the best). */
  test?: { loss: number; accuracy: number; epoch: number; checkpoint: string };
}

/** A checkpoint's `state.json`: what an exact resume needs besides the weights. */
export interface TrainingState {
  /** Epochs fully completed. */
  epoch: number;
  /** Batches of epoch `epoch + 1` already trained (0 at an epoch boundary). */
  batch_in_epoch: number;
  global_step: number;
  best: BestMetric | null;
  config_hash: string;
  backend: string;
  metrics: Record<string, number>;
  /** Running sums of a partly trained epoch (mid-epoch checkpoints only). */
  partial?: { loss_sum: number; count: number } | null;
  /** Log points this checkpoint covers that were not yet written when it was saved. */
  pending?: MetricPoint[];
  /** Batches skipped for a non-finite loss so far, and how many of the last ones in a row (`on_nan: skip`). */
  skipped_batches?: number;
  consecutive_skips?: number;
  /** Early stopping: the best monitored value, epochs since, and why the run stopped once it has. */
  early_stopping?: { best: number | null; best_epoch: number; bad_epochs: number; stopped?: string } | null;
  /** The plateau schedule: the rate in effect, the best monitored value, epochs without improvement. */
  plateau?: { lr: number; best: number | null; bad_epochs: number } | null;
  time: string;
}

/** `checksums.json` of a checkpoint: every file's size and sha256 when it was saved. */
export interface Checksums {
  algorithm: 'sha256';
  files: Record<string, { size: number; sha256: string }>;
}

/** `tudui.lock`: who writes the directory now. */
export interface LockInfo {
  pid: number;
  host: string;
  started_at: string;
  command: string;
}

export interface ConfigChange {
  key: string;
  old: unknown;
  new: unknown;
}

/** One line of config-history.jsonl: a change accepted by `resume --allow-changed`. */
export interface HistoryEntry {
  time: string;
  /** Epochs completed when the change took effect (training continues with epoch + 1). */
  epoch: number;
  global_step: number;
  /** The checkpoint the run continued from. */
  checkpoint: string;
  changes: ConfigChange[];
  config_hash: string;
  /** The whole resolved config after the change (as in config.yaml). */
  config: Record<string, unknown>;
}

/** A hyperparameter value as a sweep records it (TensorBoard HPARAMS takes numbers, strings and booleans). */
export type HParam = number | string | boolean;
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** One member in `sweep.json`. */
export interface ManifestMember {
  index: number;
  label: string;
  /** Run directory name, relative to the sweep directory. */
  run_dir: string;
  /** Absolute path of the experiment file. */
  file: string;
  experiment: string;
  overrides: string[];
  grid: Record<string, JsonValue>;
  hparams: Record<string, HParam>;
  status: MemberStatus;
  /** How many times it was started (fresh or resumed). */
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
  seconds: number | null;
  error: string | null;
}

/** `sweep.json`: the sweep's members and their state, rewritten atomically whenever a member changes state. */
export interface Manifest {
  version: number;
  name: string;
  created_at: string;
  updated_at: string;
  /** Working directory the files' relative paths (dataset roots) resolve against. */
  cwd: string;
  patterns: string[];
  set: string[];
  device: string | null;
  rank_by: string;
  status: SweepStatus;
  hparams: string[];
  members: ManifestMember[];
}

/** One row of a sweep's ranked summary (`summary.json`'s `members`, `summary.csv`'s lines). */
export interface SummaryRow {
  /** 1-based rank; members without a value for the metric come last. */
  rank: number;
  member: string;
  status: MemberStatus;
  best_test_accuracy: number | null;
  test_accuracy: number | null;
  best_test_loss: number | null;
  test_loss: number | null;
  train_loss: number | null;
  epochs: number;
  seconds: number | null;
  run_dir: string;
  file: string;
  error: string | null;
  hparams: Record<string, HParam>;
}

/** A sweep directory's `summary.json`. */
export interface SweepSummary {
  name: string;
  sweep_dir: string;
  status: SweepStatus;
  rank_by: string;
  direction: 'max' | 'min';
  hparams: string[];
  members: SummaryRow[];
}

/** The columns of `summary.csv` before the hyperparameters, and after them. */
export const SWEEP_CSV_METRIC_COLUMNS = ['rank', 'member', 'status', 'best_test_accuracy', 'test_accuracy', 'best_test_loss', 'test_loss', 'train_loss', 'epochs', 'seconds'] as const;
export const SWEEP_CSV_TRAILING_COLUMNS = ['run_dir', 'file', 'error'] as const;

// --- Readers ------------------------------------------------------------------------------------------------------------

/** A JSON file; a missing or damaged one is a UserError naming it. */
export function readJson<T>(path: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new UserError(`${path} is damaged: not valid JSON (${(e as Error).message})`);
  }
}

function readJsonOrUndefined<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Lines of a JSON-lines file; a line that does not parse (a torn last line from a killed writer) is skipped. */
export function readJsonLines<T>(path: string): T[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return parseJsonLines<T>(text);
}

function parseJsonLines<T>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a torn line
    }
  }
  return out;
}

/**
 * What `scanMetricLines` hands each point to; `parsed` is the object of a line JSON.parse read (it may hold more
 * keys than the five).
 */
export type MetricSink = (tag: string, value: number, step: number, epoch: number, wall: number, parsed?: MetricPoint) => void;

function parseMetricLines(bytes: Buffer): MetricPoint[] {
  const out: MetricPoint[] = [];
  scanMetricLines(bytes, (tag, value, step, epoch, wall_time, parsed) => out.push(parsed ?? { tag, value, step, epoch, wall_time }));
  return out;
}

/**
 * metrics.jsonl lines (UTF-8 bytes), to `add`. A line exactly as `appendMetric` writes it (`{"tag":…,"value":…,
 * "step":…,"epoch":…,"wall_time":…}`, numbers, a tag without escapes) is scanned in place: no text decoding, no
 * JSON.parse, no object, no substring per number (the board reads millions of lines; decoding and `+string` were
 * most of their cost); any other line (a `"NaN"` value, other keys, other spacing) goes through JSON.parse, and one
 * that does not parse (a torn line) is skipped.
 */
export function scanMetricLines(bytes: Buffer, add: MetricSink): void {
  let tag = '';
  let tagAt = -1;
  const len = bytes.length;
  for (let i = 0; i < len; ) {
    const end = canonicalMetric(bytes, i, tagAt, tagAt < 0 ? 0 : tagBytes);
    if (end >= 0) {
      // the same tag as the line before (the usual case) needs no new string
      if (!sameTag) (tag = bytes.toString('utf8', i + 8, tagEnd)), (tagBytes = tagEnd - i - 8);
      tagAt = i + 8;
      add(tag, FIELDS[0]!, FIELDS[1]!, FIELDS[2]!, FIELDS[3]!);
      i = end + 1;
      continue;
    }
    let nl = bytes.indexOf(10, i);
    if (nl < 0) nl = len;
    if (nl > i) {
      const p = parseJsonLines<MetricPoint & { value: number | string }>(bytes.toString('utf8', i, nl))[0];
      if (p) {
        const point = { ...p, value: Number(p.value) };
        add(point.tag, point.value, point.step, point.epoch, point.wall_time, point);
      }
    }
    i = nl + 1;
  }
}

/**
 * What canonicalMetric found besides its return value: the numbers (value, step, epoch, wall_time), where the tag
 * ended and whether it is the previous line's; tagBytes: the previous tag's length; numberEnd: where a number ended.
 */
const FIELDS = new Float64Array(4);
let tagEnd = 0;
let sameTag = false;
let tagBytes = 0;
let numberEnd = 0;
/** 10^k, exact for k ≤ 22. */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
const EXACT = 2 ** 53;

/**
 * Where the line starting at t[a] ends (its newline, or the end of t) if it is a canonical line (its numbers then
 * in FIELDS, its tag's end in tagEnd), else -1: the line is then found and parsed as JSON. Each part stops at the
 * first byte that does not fit it (a newline fits none), so a canonical line is read without looking for its end
 * first. The previous line's tag, at `last` with `len` bytes, is compared first (sameTag: the caller keeps it).
 * The keys are compared byte by byte in line (a loop over key arrays is ~25% slower).
 */
function canonicalMetric(t: Buffer, a: number, last: number, len: number): number {
  // {"tag":"
  if (t[a] !== 123 || t[a + 1] !== 34 || t[a + 2] !== 116 || t[a + 3] !== 97 || t[a + 4] !== 103 || t[a + 5] !== 34 || t[a + 6] !== 58 || t[a + 7] !== 34) return -1;
  const at = a + 8;
  const b = t.length;
  let q = at;
  sameTag = last >= 0 && at + len < b && t[at + len] === 34; /* " */
  for (let j = 0; sameTag && j < len; j++) sameTag = t[at + j] === t[last + j];
  if (sameTag) q = at + len;
  else {
    for (let c = 0; q < b && (c = t[q]!) !== 34; q++) if (c === 92 /* \ */ || c < 32) return -1;
    if (q >= b) return -1;
  }
  tagEnd = q;
  // ","value":
  if (t[q + 1] !== 44 || t[q + 2] !== 34 || t[q + 3] !== 118 || t[q + 4] !== 97 || t[q + 5] !== 108 || t[q + 6] !== 117 || t[q + 7] !== 101 || t[q + 8] !== 34 || t[q + 9] !== 58) return -1;
  let v = scanNumber(t, q + 10, b);
  if (v !== v) return -1;
  FIELDS[0] = v;
  let p = numberEnd;
  // ,"step":
  if (t[p] !== 44 || t[p + 1] !== 34 || t[p + 2] !== 115 || t[p + 3] !== 116 || t[p + 4] !== 101 || t[p + 5] !== 112 || t[p + 6] !== 34 || t[p + 7] !== 58) return -1;
  v = scanNumber(t, p + 8, b);
  if (v !== v) return -1;
  FIELDS[1] = v;
  p = numberEnd;
  // ,"epoch":
  if (t[p] !== 44 || t[p + 1] !== 34 || t[p + 2] !== 101 || t[p + 3] !== 112 || t[p + 4] !== 111 || t[p + 5] !== 99 || t[p + 6] !== 104 || t[p + 7] !== 34 || t[p + 8] !== 58) return -1;
  v = scanNumber(t, p + 9, b);
  if (v !== v) return -1;
  FIELDS[2] = v;
  p = numberEnd;
  // ,"wall_time":
  if (t[p] !== 44 || t[p + 1] !== 34 || t[p + 2] !== 119 || t[p + 3] !== 97 || t[p + 4] !== 108 || t[p + 5] !== 108 || t[p + 6] !== 95 || t[p + 7] !== 116 || t[p + 8] !== 105 || t[p + 9] !== 109 || t[p + 10] !== 101 || t[p + 11] !== 34 || t[p + 12] !== 58) return -1;
  v = scanNumber(t, p + 13, b);
  if (v !== v) return -1;
  FIELDS[3] = v;
  p = numberEnd;
  if (t[p] !== 125 /* } */) return -1;
  return p + 1 === b || t[p + 1] === 10 ? p + 1 : -1;
}

/**
 * The JSON number at t[p…] (NaN if there is none; numberEnd: where it ends), as JSON.parse reads it. Its digits are
 * an integer M over 10^decimals: M < 2^53 and 10^decimals (decimals ≤ 22) are both exact, so one division is the
 * correctly rounded double (Clinger's fast path); M of up to 19 significant digits (the 17 of a shortest double,
 * most of a training loss) is settled exactly by `quotient`; anything else (an exponent, longer digits, a case
 * `quotient` cannot settle) is converted by `+`.
 */
function scanNumber(t: Buffer, p: number, end: number): number {
  const start = p;
  const neg = t[p] === 45; /* - */
  if (neg) p++;
  const first = p;
  // the significant digits: the first 15 in a, up to 4 more in b (nb of them); `more`: some beyond those
  let a = 0;
  let b = 0;
  let nb = 0;
  let more = false;
  let c = 0;
  for (; p < end && (c = t[p]!) >= 48 && c <= 57; p++) {
    if (a < 1e14) a = a * 10 + (c - 48);
    else if (nb < 4) (b = b * 10 + (c - 48)), nb++;
    else more = true;
  }
  // JSON: at least one digit, no leading zero
  if (p === first || (t[first] === 48 && p > first + 1)) return NaN;
  let decimals = 0;
  if (c === 46 /* . */) {
    const dot = ++p;
    for (; p < end && (c = t[p]!) >= 48 && c <= 57; p++) {
      if (a < 1e14) a = a * 10 + (c - 48);
      else if (nb < 4) (b = b * 10 + (c - 48)), nb++;
      else more = true;
    }
    decimals = p - dot;
    if (decimals === 0) return NaN;
  }
  const exponent = c === 101 || c === 69; /* e E */
  let v = NaN;
  if (!exponent && !more && decimals <= 22) {
    const m = nb ? a * POW10[nb]! + b : a;
    v = m < EXACT ? (decimals ? m / POW10[decimals]! : m) : quotient(a, nb, b, decimals);
  }
  if (v !== v) {
    if (exponent) {
      p++;
      if (t[p] === 43 || t[p] === 45) p++;
      const digits = p;
      while (p < end && (c = t[p]!) >= 48 && c <= 57) p++;
      if (p === digits) return NaN;
    }
    numberEnd = p;
    return +t.toString('latin1', start, p);
  }
  numberEnd = p;
  return neg ? -v : v;
}

const BITS = new Float64Array(1);
const WORDS = new Uint32Array(BITS.buffer);
/** 2^(e − 1075): the ulp of a normal double whose biased exponent is e. */
const ULP = Array.from({ length: 2047 }, (_, e) => Math.pow(2, e - 1075));
let productLow = 0;

/** a·b as hi + productLow exactly (Dekker's product with Veltkamp's split; no overflow at these sizes). */
function twoProduct(a: number, b: number): number {
  const p = a * b;
  let s = 134217729 * a; // 2^27 + 1
  const ah = s - (s - a);
  const al = a - ah;
  s = 134217729 * b;
  const bh = s - (s - b);
  const bl = b - bh;
  productLow = al * bl - (p - ah * bh - al * bh - ah * bl);
  return p;
}

/**
 * (a·10^nb + b) / 10^k correctly rounded (a < 10^15, b < 10^nb, nb ≤ 4, k ≤ 22; the digits M ≥ 2^53), or NaN
 * when that is too close to call. M is held as a double-double (error-free products and sums), q = M's high part
 * / 10^k is within an ulp and a half of the answer, and the residual M − q·10^k, computed to about 2^-50 of an ulp,
 * says whether q or its neighbour on that side lies within half an ulp; a residual within 10^-6 of half an ulp
 * (a tie, or too close to one) is left to `+`.
 */
function quotient(a: number, nb: number, b: number, k: number): number {
  const ph = twoProduct(a, POW10[nb]!);
  const pl = productLow;
  let hi = ph + b;
  const bv = hi - ph;
  let lo = ph - (hi - bv) + (b - bv) + pl;
  const sum = hi + lo;
  lo -= sum - hi;
  hi = sum;
  const P = POW10[k]!;
  const q = hi / P;
  const qh = twoProduct(q, P);
  const r = hi - qh - productLow + lo; // hi − qh is exact (Sterbenz: qh is within ulps of hi)
  BITS[0] = q;
  let half = ULP[(WORDS[1]! >>> 20) & 0x7ff]! * P * 0.5;
  if (Math.abs(r) < half * (1 - 1e-6)) return q;
  // the neighbour on the residual's side (q > 0: one more or one less in its bits)
  if (r > 0) WORDS[0] === 0xffffffff ? ((WORDS[0] = 0), WORDS[1]!++) : WORDS[0]!++;
  else WORDS[0] === 0 ? ((WORDS[0] = 0xffffffff), WORDS[1]!--) : WORDS[0]!--;
  const n = BITS[0]!;
  half = ULP[(WORDS[1]! >>> 20) & 0x7ff]! * P * 0.5;
  const rn = r - (n - q) * P; // n − q is a power of two: exact, and so is its product by P
  return Math.abs(rn) < half * (1 - 1e-6) ? n : NaN;
}

/** A run's summary, or undefined when there is none or it does not parse (a run killed before its first write). */
export function readSummary(runDir: string): RunSummary | undefined {
  const s = readJsonOrUndefined<RunSummary>(join(runDir, SUMMARY_FILE));
  return s && typeof s === 'object' && typeof s.status === 'string' ? s : undefined;
}

/** A run's summary; a missing or damaged one is a UserError naming the file. */
export function requireSummary(runDir: string): RunSummary {
  const path = join(runDir, SUMMARY_FILE);
  if (!existsSync(path)) throw new UserError(`${runDir} is not a run directory: ${SUMMARY_FILE} is missing`, 'pass a directory that `tudui run` printed, e.g. runs/<name>/<timestamp>');
  const s = readJson<RunSummary>(path);
  if (!s || typeof s !== 'object' || typeof s.status !== 'string') throw new UserError(`${path} is not a tudui run summary (no status)`);
  return s;
}

export function readLock(dir: string): LockInfo | undefined {
  return readJsonOrUndefined<LockInfo>(join(dir, LOCK_FILE));
}

/** A lock whose holder is known to be gone: a dead pid on this host (another host's lock is never judged stale). */
export function isStale(info: LockInfo): boolean {
  return info.host === hostname() && info.pid !== process.pid && !pidAlive(info.pid);
}

export function describeHolder(info: LockInfo): string {
  return `pid ${info.pid} on ${info.host} since ${info.started_at}${info.command ? ` (${info.command})` : ''}`;
}

/**
 * The status a run directory reports, reading a `running` one whose writer is gone (a stale lock, no pid) as
 * `interrupted`; undefined when it has no summary and no live writer.
 */
export function readStatus(runDir: string, summary = readSummary(runDir)): RunStatus | undefined {
  if (!summary) {
    // Between the lock and the first summary (backend and data loading) a live writer means running.
    const lock = readLock(runDir);
    return lock && !isStale(lock) ? 'running' : undefined;
  }
  if (summary.status !== 'running') return summary.status;
  const lock = readLock(runDir);
  if (lock && !isStale(lock)) return 'running';
  if (!lock && summary.host === hostname() && summary.pid && pidAlive(summary.pid) && summary.pid !== process.pid) return 'running';
  return 'interrupted';
}

/** All of metrics.jsonl (values written as strings, `"NaN"`, read back as numbers); a torn last line is ignored. */
export function readMetrics(path: string): MetricPoint[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return [];
  }
  return parseMetricLines(bytes);
}

/** Where a MetricsTail stands in its file (to hand a tail over: the board reads files in a worker first). */
export interface TailState {
  offset: number;
  /** The bytes of a partial last line. */
  partial: Uint8Array;
  ino: number | undefined;
}

const NO_BYTES = Buffer.alloc(0);

/**
 * Follows a growing metrics.jsonl by byte offset: each `poll()` returns the points appended since the last one. A
 * partial last line (a writer mid-append) stays buffered, as bytes, until its newline arrives. When the file is
 * replaced or shortened (`resume --from` rewrites it without the points it drops) the tail starts over and says so
 * (`reset`).
 */
export class MetricsTail {
  private offset = 0;
  private partial: Buffer = NO_BYTES;
  private ino: number | undefined;

  constructor(readonly path: string, state?: TailState) {
    if (state) (this.offset = state.offset), (this.partial = Buffer.from(state.partial)), (this.ino = state.ino);
  }

  poll(): { points: MetricPoint[]; reset: boolean } {
    const { bytes, reset } = this.pollBytes();
    return { points: parseMetricLines(bytes), reset };
  }

  /** The complete lines appended since the last poll (for `scanMetricLines`). */
  pollBytes(): { bytes: Buffer; reset: boolean } {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      const reset = this.offset > 0;
      this.offset = 0;
      this.partial = NO_BYTES;
      this.ino = undefined;
      return { bytes: NO_BYTES, reset };
    }
    try {
      const st = fstatSync(fd);
      let reset = false;
      if ((this.ino !== undefined && st.ino !== this.ino) || st.size < this.offset) {
        reset = this.offset > 0 || this.partial.length > 0;
        this.offset = 0;
        this.partial = NO_BYTES;
      }
      this.ino = st.ino;
      if (st.size === this.offset) return { bytes: NO_BYTES, reset };
      const held = this.partial.length;
      const buf = Buffer.allocUnsafe(held + st.size - this.offset);
      this.partial.copy(buf);
      let got = held;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, this.offset + got - held);
        if (n === 0) break;
        got += n;
      }
      this.offset += got - held;
      const nl = got > 0 ? buf.lastIndexOf(10, got - 1) : -1;
      this.partial = Buffer.from(buf.subarray(nl + 1, got));
      return { bytes: buf.subarray(0, nl + 1), reset };
    } finally {
      closeSync(fd);
    }
  }

  state(): TailState {
    return { offset: this.offset, partial: Uint8Array.from(this.partial), ino: this.ino };
  }

  /** Bytes consumed so far (complete lines only). */
  get bytesRead(): number {
    return this.offset - this.partial.length;
  }
}

export function readConfigText(runDir: string, which: 'current' | 'original' = 'current'): string | undefined {
  try {
    return readFileSync(join(runDir, which === 'current' ? CONFIG_FILE : ORIGINAL_CONFIG), 'utf8');
  } catch {
    return undefined;
  }
}

/** Accepted config changes, oldest first; a torn last line (a killed process) is ignored. */
export function readHistory(runDir: string): HistoryEntry[] {
  return readJsonLines<HistoryEntry>(join(runDir, CONFIG_HISTORY));
}

/**
 * A config as key paths (as for `--set`: `optimizer.lr`, `model.layers[0].conv2d.filters`... ) → value; arrays of
 * scalars are one value. Used to diff configs (`resume`, `compare`) and to name columns (`ls -c =optimizer.lr`).
 */
export function flattenConfig(v: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(v)) {
    if (v.every((x) => x === null || typeof x !== 'object')) out.set(prefix, v);
    else v.forEach((x, i) => flattenConfig(x, `${prefix}[${i}]`, out));
  } else if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    if (entries.length === 0) out.set(prefix, v);
    for (const [k, x] of entries) flattenConfig(x, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, v);
  }
  return out;
}

/** Key paths whose values differ between two configs (plain objects, as parsed from config.yaml). */
export function diffConfigs(a: unknown, b: unknown): ConfigChange[] {
  const fa = flattenConfig(a);
  const fb = flattenConfig(b);
  const out: ConfigChange[] = [];
  for (const key of new Set([...fa.keys(), ...fb.keys()])) {
    const x = fa.get(key);
    const y = fb.get(key);
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push({ key, old: x, new: y });
  }
  return out;
}

/** error.txt of a failed or diverged run. */
export function readErrorText(runDir: string): string | undefined {
  try {
    return readFileSync(join(runDir, ERROR_FILE), 'utf8');
  } catch {
    return undefined;
  }
}

// --- Checkpoints ----------------------------------------------------------------------------------------------------

/** `epoch-0003`, or `epoch-0003-step-000120` for a checkpoint written mid-epoch. */
export function checkpointName(epoch: number, batchInEpoch = 0): string {
  const e = `epoch-${String(epoch).padStart(4, '0')}`;
  return batchInEpoch ? `${e}-step-${String(batchInEpoch).padStart(6, '0')}` : e;
}

export const CHECKPOINT_NAME = /^epoch-\d{4}(-step-\d{6})?$/;

/** Names of the kept checkpoints, oldest first. */
export function listCheckpoints(runDir: string): string[] {
  try {
    return readdirSync(join(runDir, CHECKPOINTS_DIR))
      .filter((n) => CHECKPOINT_NAME.test(n))
      .sort();
  } catch {
    return [];
  }
}

/** The checkpoint `last` or `best` points to (its directory name), or undefined when there is no such link. */
export function checkpointLink(runDir: string, link: CheckpointLink): string | undefined {
  return linkTarget(join(runDir, CHECKPOINTS_DIR, link));
}

/** The target of a symbolic link, or undefined. */
export function linkTarget(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** Whether the run has a checkpoint to resume from (`checkpoints/last`). */
export function hasCheckpoint(runDir: string): boolean {
  return existsSync(join(runDir, CHECKPOINTS_DIR, LAST));
}

/** A checkpoint's training state; a damaged file is named. */
export function readState(checkpointDir: string): TrainingState {
  return readJson<TrainingState>(join(checkpointDir, CHECKPOINT_FILES.state));
}

// --- Sweep directories ------------------------------------------------------------------------------------------------

export function isSweepDir(dir: string): boolean {
  return existsSync(join(dir, SWEEP_MANIFEST));
}

/** A run directory: it has a summary or the config it started with, and is not a sweep directory. */
export function isRunDir(dir: string): boolean {
  return !isSweepDir(dir) && (existsSync(join(dir, SUMMARY_FILE)) || existsSync(join(dir, ORIGINAL_CONFIG)));
}

/** `sweep.json`; a missing, damaged or foreign one is a UserError naming it. */
export function readManifest(sweepDir: string): Manifest {
  const path = join(sweepDir, SWEEP_MANIFEST);
  if (!existsSync(path)) throw new UserError(`${sweepDir} is not a sweep directory: ${SWEEP_MANIFEST} is missing`, 'pass the directory `tudui sweep` printed, e.g. runs/<name>/<timestamp>');
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (e) {
    throw new UserError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (m.version !== SWEEP_MANIFEST_VERSION || !Array.isArray(m.members)) throw new UserError(`${path} is not a tudui sweep manifest (version ${String(m.version)})`);
  return m;
}

/** A sweep's `summary.json` (written when the sweep ends), or undefined while it has none. */
export function readSweepSummary(sweepDir: string): SweepSummary | undefined {
  const s = readJsonOrUndefined<SweepSummary>(join(sweepDir, SWEEP_SUMMARY_JSON));
  return s && Array.isArray(s.members) ? s : undefined;
}

/** `summary.csv` as records (header → cell; empty cells are null); RFC 4180 quoting. */
export function readSweepSummaryCsv(sweepDir: string): Array<Record<string, string | null>> {
  let text: string;
  try {
    text = readFileSync(join(sweepDir, SWEEP_SUMMARY_CSV), 'utf8');
  } catch {
    return [];
  }
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] === undefined || r[i] === '' ? null : r[i]!])));
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) rows.push([...row, cell]);
  return rows;
}

// --- Finding runs under a directory -----------------------------------------------------------------------------------

export interface FoundRun {
  dir: string;
  /** The sweep directory it is a member of, and its member record. */
  sweep?: { dir: string; member: ManifestMember };
}

export interface FoundSweep {
  dir: string;
  manifest: Manifest;
}

/**
 * Every run and sweep directory under `root` (itself included), in path order. Symbolic links are not followed
 * (nothing outside `root` is read), checkpoint and hidden directories are not entered. Sweep members come in the
 * manifest's order; a member not started yet has no directory and is listed only in its sweep's manifest.
 */
export function findRuns(root: string, opts: { maxDepth?: number } = {}): { runs: FoundRun[]; sweeps: FoundSweep[] } {
  const runs: FoundRun[] = [];
  const sweeps: FoundSweep[] = [];
  const maxDepth = opts.maxDepth ?? 8;
  const walk = (dir: string, depth: number) => {
    if (isSweepDir(dir)) {
      let manifest: Manifest | undefined;
      try {
        manifest = readManifest(dir);
      } catch {
        manifest = undefined;
      }
      if (manifest) {
        sweeps.push({ dir, manifest });
        for (const member of manifest.members) {
          const md = memberDir(dir, member);
          if (md && isRunDir(md) && isRealDir(md)) runs.push({ dir: md, sweep: { dir, member } });
        }
        return;
      }
    }
    if (isRunDir(dir)) {
      runs.push({ dir });
      return;
    }
    if (depth >= maxDepth) return;
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const n of names) {
      if (n.startsWith('.') || n === CHECKPOINTS_DIR) continue;
      const p = join(dir, n);
      if (isRealDir(p)) walk(p, depth + 1);
    }
  };
  if (!existsSync(root)) throw new UserError(`${root} does not exist`, 'pass a runs directory (default: runs), a run directory or a sweep directory');
  if (!statSync(root).isDirectory()) throw new UserError(`${root} is not a directory`);
  walk(root, 0);
  return { runs, sweeps };
}

/**
 * A sweep member's run directory, or undefined when its manifest entry points outside the sweep directory (`../..`,
 * an absolute path): a manifest is data, and nothing outside the sweep is read on its word.
 */
export function memberDir(sweepDir: string, member: Pick<ManifestMember, 'run_dir'>): string | undefined {
  const dir = resolve(sweepDir, member.run_dir);
  const r = relative(resolve(sweepDir), dir);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r) ? dir : undefined;
}

function isRealDir(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}
