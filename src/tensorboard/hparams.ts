/**
 * Records for TensorBoard's HParams plugin (tensorboard/plugins/hparams: api.proto, plugin_data.proto, metadata.py).
 *
 * Each record is a `Summary.Value` with tag `_hparams_/experiment`, `_hparams_/session_start_info` or
 * `_hparams_/session_end_info`, metadata plugin "hparams" whose content is a serialized `HParamsPluginData`
 * (version 0), and the plugin's null tensor (a DT_FLOAT scalar 0), as `tensorboard.plugins.hparams.summary` writes
 * them (PyTorch's `hparams()` writes the same content without the tensor; TensorBoard adds it when it reads).
 *
 * Layout TensorBoard expects: one session per run directory (its start/end info plus its metric scalars), and the
 * experiment description either in the sweep's root directory (the "empty run") or in each session's directory.
 */
import {
  DATA_CLASS_TENSOR,
  DT_FLOAT,
  HPARAM_TYPE,
  HParamsPluginDataMsg,
  SESSION_STATUS,
  encodeMessage,
} from './proto.js';
import type { EventWriter, SummaryValue } from './writer.js';

export const HPARAMS_PLUGIN_NAME = 'hparams';
export const HPARAMS_PLUGIN_DATA_VERSION = 0;
export const EXPERIMENT_TAG = '_hparams_/experiment';
export const SESSION_START_INFO_TAG = '_hparams_/session_start_info';
export const SESSION_END_INFO_TAG = '_hparams_/session_end_info';

export type HParamValue = number | string | boolean;
export type HParamType = 'number' | 'string' | 'bool';
export type SessionStatus = keyof typeof SESSION_STATUS;

/** Seconds since the epoch, or a Date. */
export type Time = number | Date;

export interface HParamSpec {
  name: string;
  /** Inferred from a discrete domain when absent. */
  type?: HParamType;
  /** Discrete values, or a closed numeric interval. */
  domain?: HParamValue[] | { min: number; max: number };
  displayName?: string;
  description?: string;
}

export interface MetricSpec {
  tag: string;
  /** Sub-directory of the session's run holding the scalar (usually absent: same directory). */
  group?: string;
  displayName?: string;
  description?: string;
}

export interface HparamsExperiment {
  hparams: HParamSpec[];
  /** Scalar tags TensorBoard shows as metric columns (the session's last value of each). */
  metrics: Array<string | MetricSpec>;
  description?: string;
  timeCreated?: Time;
}

export interface HparamsSessionStart {
  hparams: Record<string, HParamValue>;
  startTime: Time;
  /** Sessions with the same group name are repetitions of one configuration. Default: the session itself. */
  groupName?: string;
  modelUri?: string;
}

export interface HparamsSessionEnd {
  status: SessionStatus;
  endTime: Time;
}

export interface HparamsSession extends HparamsSessionStart, HparamsSessionEnd {
  /** Final metric values, written as scalars (tag → value) at `metricsStep` (default 0), as PyTorch's add_hparams. */
  metrics?: Record<string, number>;
  metricsStep?: number;
}

function toSecs(t: Time, what: string): number {
  const secs = t instanceof Date ? t.getTime() / 1000 : t;
  if (!Number.isFinite(secs) || secs < 0) throw new Error(`tensorboard hparams: ${what} must be a time, got ${t}`);
  // A number this large is milliseconds (year 5138 in seconds): a caller bug, caught rather than shown as nonsense.
  if (secs > 1e11) throw new Error(`tensorboard hparams: ${what} must be in seconds since the epoch, got ${secs}`);
  return secs;
}

/** google.protobuf.Value for a hyperparameter value. */
function protoValue(v: HParamValue): Record<string, unknown> {
  switch (typeof v) {
    case 'number':
      return { number_value: v };
    case 'string':
      return { string_value: v };
    case 'boolean':
      return { bool_value: v };
    default:
      throw new Error(`tensorboard hparams: value must be a number, string or boolean, got ${typeof v}`);
  }
}

function typeOf(v: HParamValue): HParamType {
  return typeof v === 'number' ? 'number' : typeof v === 'string' ? 'string' : 'bool';
}

const TYPE_ENUM: Record<HParamType, number> = {
  number: HPARAM_TYPE.float64,
  string: HPARAM_TYPE.string,
  bool: HPARAM_TYPE.bool,
};

/** The serialized `HParamsPluginData` with one of its `data` fields set. */
export function hparamsPluginData(
  data: { experiment: Record<string, unknown> } | { session_start_info: Record<string, unknown> } | { session_end_info: Record<string, unknown> },
): Uint8Array {
  // version 0 is the proto3 default: left out, as the Python serializer does.
  return encodeMessage(HParamsPluginDataMsg, { ...data });
}

/** The `Summary.Value` carrying hparams plugin data under `tag`. */
export function hparamsValue(tag: string, content: Uint8Array): SummaryValue {
  return {
    tag,
    metadata: {
      plugin_data: { plugin_name: HPARAMS_PLUGIN_NAME, content },
      data_class: DATA_CLASS_TENSOR,
    },
    // hparams metadata.NULL_TENSOR: make_tensor_proto(0.0, DT_FLOAT).
    tensor: { dtype: DT_FLOAT, tensor_shape: {}, float_val: [0] },
  };
}

export function experimentContent(exp: HparamsExperiment): Uint8Array {
  const hparam_infos = exp.hparams.map((h) => {
    const info: Record<string, unknown> = { name: h.name };
    if (h.displayName) info.display_name = h.displayName;
    if (h.description) info.description = h.description;
    let type = h.type;
    if (Array.isArray(h.domain)) {
      const first = h.domain[0];
      if (type === undefined && first !== undefined) type = typeOf(first);
      info.domain_discrete = { values: h.domain.map(protoValue) };
    } else if (h.domain) {
      // proto3 defaults (0) left out, as the C++/Python serializers do.
      const interval: Record<string, number> = {};
      if (h.domain.min !== 0) interval.min_value = h.domain.min;
      if (h.domain.max !== 0) interval.max_value = h.domain.max;
      info.domain_interval = interval;
    }
    if (type !== undefined) info.type = TYPE_ENUM[type];
    return info;
  });
  const metric_infos = exp.metrics.map((m) => {
    const spec: MetricSpec = typeof m === 'string' ? { tag: m } : m;
    const name: Record<string, unknown> = { tag: spec.tag };
    if (spec.group) name.group = spec.group;
    const info: Record<string, unknown> = { name };
    if (spec.displayName) info.display_name = spec.displayName;
    if (spec.description) info.description = spec.description;
    return info;
  });
  const experiment: Record<string, unknown> = { hparam_infos, metric_infos };
  if (exp.description) experiment.description = exp.description;
  if (exp.timeCreated !== undefined) experiment.time_created_secs = toSecs(exp.timeCreated, 'timeCreated');
  return hparamsPluginData({ experiment });
}

export function sessionStartContent(s: HparamsSessionStart): Uint8Array {
  const hparams: Record<string, unknown> = {};
  // Keys sorted: the map's entries come out in the order of Python's deterministic serialization.
  for (const k of Object.keys(s.hparams).sort()) hparams[k] = protoValue(s.hparams[k]!);
  const info: Record<string, unknown> = { hparams, start_time_secs: toSecs(s.startTime, 'startTime') };
  if (s.groupName) info.group_name = s.groupName;
  if (s.modelUri) info.model_uri = s.modelUri;
  return hparamsPluginData({ session_start_info: info });
}

export function sessionEndContent(s: HparamsSessionEnd): Uint8Array {
  const status = SESSION_STATUS[s.status];
  if (status === undefined) throw new Error(`tensorboard hparams: unknown status ${String(s.status)}`);
  return hparamsPluginData({ session_end_info: { status, end_time_secs: toSecs(s.endTime, 'endTime') } });
}

/** The experiment description: hyperparameter names/types/domains and the metric tags. */
export function writeHparamsExperiment(writer: EventWriter, exp: HparamsExperiment, step = 0): void {
  writer.writeSummary([hparamsValue(EXPERIMENT_TAG, experimentContent(exp))], step);
}

/** A session's start (its hyperparameter values); write at the start of a run so TensorBoard lists it while running. */
export function writeHparamsSessionStart(writer: EventWriter, s: HparamsSessionStart, step = 0): void {
  writer.writeSummary([hparamsValue(SESSION_START_INFO_TAG, sessionStartContent(s))], step);
}

/** A session's end: status and end time. */
export function writeHparamsSessionEnd(writer: EventWriter, s: HparamsSessionEnd, step = 0): void {
  writer.writeSummary([hparamsValue(SESSION_END_INFO_TAG, sessionEndContent(s))], step);
}

/** A whole session at once: start info, the final metrics as scalars, end info. Flushes the writer. */
export function writeHparamsSession(writer: EventWriter, s: HparamsSession): void {
  writeHparamsSessionStart(writer, s);
  for (const [tag, value] of Object.entries(s.metrics ?? {})) writer.scalar(tag, value, s.metricsStep ?? 0);
  writeHparamsSessionEnd(writer, s);
  writer.flush();
}
