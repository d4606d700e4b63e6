// Shared declarations of the csgnet addon. The addon is deliberately thin: it holds at::Tensor
// handles, converts JS values to IValues by the op schema (convert.cc), calls ATen ops through
// the dispatcher by name (ops.cc), and exposes the few non-op entry points (autograd, RNG, I/O).
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>

namespace csg {

// A JS object owning one at::Tensor. dispose() (or GC) releases it early.
class TensorWrap : public Napi::ObjectWrap<TensorWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Make(Napi::Env env, at::Tensor t);
  static bool Is(const Napi::Value& v);
  static at::Tensor& Get(const Napi::Value& v);  // throws a JS TypeError on non-tensors
  static int64_t Live();

  explicit TensorWrap(const Napi::CallbackInfo& info);
  ~TensorWrap() override;
  void Finalize(Napi::Env env) override;  // GC of the JS object
  void Release(Napi::Env env);
  at::Tensor tensor;

 private:
  int64_t accounted_ = 0;  // bytes reported to V8 as external memory
};

// JS <-> IValue conversion (one place for every argument type).
c10::IValue ToIValue(const Napi::Value& v, const c10::Argument& arg);
Napi::Value FromIValue(Napi::Env env, const c10::IValue& v);
c10::ScalarType ParseDtype(const Napi::Value& v);
std::string DtypeName(c10::ScalarType t);
std::vector<int64_t> ToIntVector(const Napi::Value& v);

// Wraps a native entry point: any libtorch or std exception becomes a JS Error with its message.
template <typename F>
Napi::Value Guard(const Napi::CallbackInfo& info, F&& f) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

void InitOps(Napi::Env env, Napi::Object exports);
void InitTensor(Napi::Env env, Napi::Object exports);
void InitAllocator(Napi::Env env, Napi::Object exports);
void InitDist(Napi::Env env, Napi::Object exports);

struct AddonData {
  Napi::FunctionReference tensorCtor;
  Napi::FunctionReference groupCtor;  // dist.cc: NativeProcessGroup
  Napi::FunctionReference reducerCtor;  // dist.cc: NativeReducer
};

}  // namespace csg
