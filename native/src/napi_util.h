// Helpers shared by the addon's source files: typed-array access, argument checks, errors thrown into JS.
#pragma once
#include <node_api.h>
#include <omp.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "oneapi/dnnl/dnnl.hpp"

// Hot loops get an AVX2 clone next to the baseline one (picked at load time); elsewhere plain code.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TUDUI_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TUDUI_CLONES
#endif

namespace tudui {

// ---------------------------------------------------------------------------------------------- N-API helpers

struct JsError {
  std::string message;
};

#define NAPI_CALL(env, call)                                                  \
  do {                                                                        \
    if ((call) != napi_ok) throw JsError{std::string("napi call failed: ") + #call}; \
  } while (0)

template <typename T>
T* typed_ptr(napi_env env, napi_value v, napi_typedarray_type want, size_t* len, const char* what,
             bool nullable = false) {
  napi_valuetype vt;
  NAPI_CALL(env, napi_typeof(env, v, &vt));
  if (nullable && (vt == napi_null || vt == napi_undefined)) {
    if (len) *len = 0;
    return nullptr;
  }
  bool is_ta = false;
  NAPI_CALL(env, napi_is_typedarray(env, v, &is_ta));
  if (!is_ta) throw JsError{std::string(what) + ": expected a typed array"};
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value ab;
  size_t off;
  NAPI_CALL(env, napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &off));
  if (type != want) throw JsError{std::string(what) + ": wrong typed array type"};
  if (len) *len = length;
  return static_cast<T*>(data);
}

inline float* f32(napi_env env, napi_value v, size_t* len, const char* what, bool nullable = false) {
  return typed_ptr<float>(env, v, napi_float32_array, len, what, nullable);
}

inline const int32_t* i32(napi_env env, napi_value v, size_t* len, const char* what) {
  return typed_ptr<int32_t>(env, v, napi_int32_array, len, what);
}

struct Args {
  napi_value argv[10];
  size_t argc = 10;
  Args(napi_env env, napi_callback_info info, size_t need) {
    NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
    if (argc < need) throw JsError{"too few arguments"};
  }
};

inline void need(bool ok, const char* msg) {
  if (!ok) throw JsError{msg};
}

template <typename F>
napi_value guarded(napi_env env, F&& f) {
  try {
    return f();
  } catch (const JsError& e) {
    napi_throw_error(env, nullptr, e.message.c_str());
  } catch (const dnnl::error& e) {
    std::string m = std::string("oneDNN: ") + e.what();
    napi_throw_error(env, nullptr, m.c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

inline napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}
inline napi_value boolean(napi_env env, bool v) {
  napi_value b;
  NAPI_CALL(env, napi_get_boolean(env, v, &b));
  return b;
}

inline int64_t arg_i64(napi_env env, napi_value v) {
  int64_t r;
  NAPI_CALL(env, napi_get_value_int64(env, v, &r));
  return r;
}
inline double arg_f64(napi_env env, napi_value v) {
  double r;
  NAPI_CALL(env, napi_get_value_double(env, v, &r));
  return r;
}
inline bool arg_bool(napi_env env, napi_value v) {
  bool r;
  NAPI_CALL(env, napi_get_value_bool(env, v, &r));
  return r;
}

// One function a source file exports to JS; each file's register_* (tudui_native.h) adds its list to `exports`.
struct Export {
  const char* name;
  napi_callback cb;
};
template <size_t N>
bool export_functions(napi_env env, napi_value exports, const Export (&fns)[N]) {
  for (const Export& f : fns) {
    napi_value fn;
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn) != napi_ok) return false;
    if (napi_set_named_property(env, exports, f.name, fn) != napi_ok) return false;
  }
  return true;
}

// Loops over at least this many elements are split across OpenMP threads.
inline bool big(size_t elements) { return elements >= (size_t(1) << 17); }

// Runs a call on one OpenMP thread when it is small. With passive waiting (see src/backends/native.ts) waking the
// other threads costs ~80 µs per parallel region, more than a small sgemm or element-wise pass takes on one thread
// (measured: a 128×10×128 sgemm 8 µs on one thread, 86 µs on two). The choice depends only on the problem size, so a
// cached oneDNN primitive always runs with the thread count it was created with.
struct ThreadScope {
  int prev = 0;
  explicit ThreadScope(bool small) {
    if (small && omp_get_max_threads() > 1) {
      prev = omp_get_max_threads();
      omp_set_num_threads(1);
    }
  }
  ~ThreadScope() {
    if (prev) omp_set_num_threads(prev);
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;
};
// Element-wise passes below this many elements, and matrix products below this many multiply-adds, run on one thread.
constexpr size_t kSmallElements = size_t(1) << 18;
constexpr double kSmallMacs = 16e6;

}  // namespace tudui
