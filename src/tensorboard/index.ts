/**
 * TensorBoard event files, written with protobufjs (messages) and crc-32's CRC32C (record checksums).
 * No `@tensorflow/*` import here.
 */
export { EventWriter, FILE_VERSION, textValue } from './writer.js';
export type { EventWriterOptions, SummaryValue } from './writer.js';
export {
  EXPERIMENT_TAG,
  HPARAMS_PLUGIN_DATA_VERSION,
  HPARAMS_PLUGIN_NAME,
  SESSION_END_INFO_TAG,
  SESSION_START_INFO_TAG,
  experimentContent,
  hparamsPluginData,
  hparamsValue,
  sessionEndContent,
  sessionStartContent,
  writeHparamsExperiment,
  writeHparamsSession,
  writeHparamsSessionEnd,
  writeHparamsSessionStart,
} from './hparams.js';
export type {
  HParamSpec,
  HParamType,
  HParamValue,
  HparamsExperiment,
  HparamsSession,
  HparamsSessionEnd,
  HparamsSessionStart,
  MetricSpec,
  SessionStatus,
  Time,
} from './hparams.js';
export { crc32c, frameRecord, maskCrc, maskedCrc32c, readRecords, unmaskCrc } from './record.js';
export { rewindEventFiles } from './rewind.js';
