/**
 * Protobuf schema for TensorBoard event files, parsed with protobufjs at load time.
 *
 * The messages are trimmed copies of the real definitions: only the fields we write are declared, with the field
 * numbers of the upstream files (checked against them):
 *   - tensorboard/compat/proto/event.proto      (= tensorflow/core/util/event.proto)
 *   - tensorboard/compat/proto/summary.proto    (= tensorflow/core/framework/summary.proto)
 *   - tensorboard/compat/proto/tensor.proto, tensor_shape.proto, types.proto
 *   - tensorboard/plugins/hparams/api.proto, plugin_data.proto
 *   - google/protobuf/struct.proto
 * Unknown fields are harmless for readers, and omitted fields are simply absent, so a trimmed schema produces bytes
 * that the full schema reads identically.
 */
import protobuf from 'protobufjs';

const STRUCT_PROTO = `
syntax = "proto3";
package google.protobuf;
message Struct { map<string, Value> fields = 1; }
message Value {
  oneof kind {
    NullValue null_value = 1;
    double number_value = 2;
    string string_value = 3;
    bool bool_value = 4;
    Struct struct_value = 5;
    ListValue list_value = 6;
  }
}
enum NullValue { NULL_VALUE = 0; }
message ListValue { repeated Value values = 1; }
`;

const TENSORBOARD_PROTO = `
syntax = "proto3";
package tensorboard;

enum DataType {
  DT_INVALID = 0;
  DT_FLOAT = 1;
  DT_DOUBLE = 2;
  DT_INT32 = 3;
  DT_STRING = 7;
  DT_INT64 = 9;
  DT_BOOL = 10;
}

message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}

message TensorProto {
  DataType dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated float float_val = 5 [packed = true];
  repeated double double_val = 6 [packed = true];
  repeated int32 int_val = 7 [packed = true];
  repeated bytes string_val = 8;
  repeated int64 int64_val = 10 [packed = true];
  repeated bool bool_val = 11 [packed = true];
}

enum DataClass {
  DATA_CLASS_UNKNOWN = 0;
  DATA_CLASS_SCALAR = 1;
  DATA_CLASS_TENSOR = 2;
  DATA_CLASS_BLOB_SEQUENCE = 3;
}

message SummaryMetadata {
  message PluginData {
    string plugin_name = 1;
    bytes content = 2;
  }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
  DataClass data_class = 4;
}

message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}

message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
  }
}
`;

const HPARAMS_PROTO = `
syntax = "proto3";
package tensorboard.hparams;

enum DataType {
  DATA_TYPE_UNSET = 0;
  DATA_TYPE_STRING = 1;
  DATA_TYPE_BOOL = 2;
  DATA_TYPE_FLOAT64 = 3;
}

message Interval {
  double min_value = 1;
  double max_value = 2;
}

message HParamInfo {
  string name = 1;
  string display_name = 2;
  string description = 3;
  DataType type = 4;
  oneof domain {
    google.protobuf.ListValue domain_discrete = 5;
    Interval domain_interval = 6;
  }
}

message MetricName {
  string group = 1;
  string tag = 2;
}

enum DatasetType {
  DATASET_UNKNOWN = 0;
  DATASET_TRAINING = 1;
  DATASET_VALIDATION = 2;
}

message MetricInfo {
  MetricName name = 1;
  string display_name = 3;
  string description = 4;
  DatasetType dataset_type = 5;
}

message Experiment {
  string name = 6;
  string description = 1;
  string user = 2;
  double time_created_secs = 3;
  repeated HParamInfo hparam_infos = 4;
  repeated MetricInfo metric_infos = 5;
}

enum Status {
  STATUS_UNKNOWN = 0;
  STATUS_SUCCESS = 1;
  STATUS_FAILURE = 2;
  STATUS_RUNNING = 3;
}

message SessionStartInfo {
  map<string, google.protobuf.Value> hparams = 1;
  string model_uri = 2;
  string monitor_url = 3;
  string group_name = 4;
  double start_time_secs = 5;
}

message SessionEndInfo {
  Status status = 1;
  double end_time_secs = 2;
}

message HParamsPluginData {
  int32 version = 1;
  oneof data {
    Experiment experiment = 2;
    SessionStartInfo session_start_info = 3;
    SessionEndInfo session_end_info = 4;
  }
}
`;

function buildRoot(): protobuf.Root {
  const root = new protobuf.Root();
  const opts = { keepCase: true };
  protobuf.parse(STRUCT_PROTO, root, opts);
  protobuf.parse(TENSORBOARD_PROTO, root, opts);
  protobuf.parse(HPARAMS_PROTO, root, opts);
  root.resolveAll();
  return root;
}

const root = buildRoot();

/** The message types, field names in snake_case as in the .proto files. */
export const EventMsg = root.lookupType('tensorboard.Event');
export const SummaryMsg = root.lookupType('tensorboard.Summary');
export const SummaryMetadataMsg = root.lookupType('tensorboard.SummaryMetadata');
export const TensorProtoMsg = root.lookupType('tensorboard.TensorProto');
export const HParamsPluginDataMsg = root.lookupType('tensorboard.hparams.HParamsPluginData');
export const ProtobufValueMsg = root.lookupType('google.protobuf.Value');

/** Enum values used by the writer (numbers from types.proto, summary.proto, hparams/api.proto). */
export const DT_FLOAT = 1;
export const DT_STRING = 7;
export const DATA_CLASS_TENSOR = 2;
export const HPARAM_TYPE = { unset: 0, string: 1, bool: 2, float64: 3 } as const;
export const SESSION_STATUS = { unknown: 0, success: 1, failure: 2, running: 3 } as const;

/** Serialize a plain object with the given type, checking it against the schema first (a bug if it does not fit). */
export function encodeMessage(type: protobuf.Type, value: Record<string, unknown>): Uint8Array {
  const err = type.verify(value);
  if (err) throw new Error(`tensorboard: invalid ${type.fullName} message: ${err}`);
  return type.encode(type.fromObject(value)).finish();
}
