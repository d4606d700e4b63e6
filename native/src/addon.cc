// Module entry point, plus the non-operator runtime: autograd engine, grad mode, RNG, threads.
#include "common.h"
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <torch/version.h>
#include <ATen/Version.h>

namespace csg {

static std::vector<at::Tensor> TensorList(const Napi::Value& v) {
  std::vector<at::Tensor> out;
  if (v.IsNull() || v.IsUndefined()) return out;
  auto arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value e = arr.Get(i);
    out.push_back(e.IsNull() || e.IsUndefined() ? at::Tensor() : TensorWrap::Get(e));
  }
  return out;
}

// backward(tensors[], grads[]|null, retainGraph, createGraph)
static Napi::Value Backward(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto tensors = TensorList(info[0]);
    auto grads = TensorList(info[1]);
    bool create = info[3].IsBoolean() && info[3].As<Napi::Boolean>();
    c10::optional<bool> retain;
    if (info[2].IsBoolean()) retain = static_cast<bool>(info[2].As<Napi::Boolean>());
    torch::autograd::backward(tensors, grads, retain, create);
    return info.Env().Undefined();
  });
}

// grad(outputs[], inputs[], gradOutputs[]|null, retainGraph, createGraph, allowUnused) -> (tensor|null)[]
static Napi::Value Grad(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto outputs = TensorList(info[0]);
    auto inputs = TensorList(info[1]);
    auto gradOutputs = TensorList(info[2]);
    c10::optional<bool> retain;
    if (info[3].IsBoolean()) retain = static_cast<bool>(info[3].As<Napi::Boolean>());
    bool create = info[4].IsBoolean() && info[4].As<Napi::Boolean>();
    bool allowUnused = info[5].IsBoolean() && info[5].As<Napi::Boolean>();
    auto grads = torch::autograd::grad(outputs, inputs, gradOutputs, retain, create, allowUnused);
    auto arr = Napi::Array::New(info.Env(), grads.size());
    for (size_t i = 0; i < grads.size(); i++)
      arr.Set(i, grads[i].defined() ? Napi::Value(TensorWrap::Make(info.Env(), grads[i])) : info.Env().Null());
    return arr;
  });
}

static Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool prev = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(info[0].As<Napi::Boolean>());
  return Napi::Boolean::New(info.Env(), prev);
}

static Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled());
}

static Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    at::manual_seed(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()));
    return info.Env().Undefined();
  });
}

// The CPU generator's full state (Mersenne Twister + cached normals) as a uint8 tensor, for checkpoints.
static Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    return TensorWrap::Make(info.Env(), gen.get_state());
  });
}

static Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(TensorWrap::Get(info[0]));
    return info.Env().Undefined();
  });
}

static Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  });
}

static Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

static Napi::Value GetNumInteropThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_interop_threads());
}

// libtorch's build configuration (BLAS_INFO, oneDNN version, OpenMP, CPU capability, TORCH_VERSION ...).
static Napi::Value ShowConfig(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value { return Napi::String::New(info.Env(), at::show_config()); });
}

// The parallel backend and its thread settings as libtorch reports them (at::get_parallel_info()).
static Napi::Value ParallelInfo(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value { return Napi::String::New(info.Env(), at::get_parallel_info()); });
}

static Napi::Value CudaAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::hasCUDA());
}

static Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                                           "." + std::to_string(TORCH_VERSION_PATCH));
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  InitTensor(env, exports);
  InitOps(env, exports);
  InitAllocator(env, exports);
  InitDist(env, exports);
  exports.Set("backward", Napi::Function::New(env, Backward));
  exports.Set("grad", Napi::Function::New(env, Grad));
  exports.Set("setGradEnabled", Napi::Function::New(env, SetGradEnabled));
  exports.Set("isGradEnabled", Napi::Function::New(env, IsGradEnabled));
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed));
  exports.Set("getRngState", Napi::Function::New(env, GetRngState));
  exports.Set("setRngState", Napi::Function::New(env, SetRngState));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("getNumInteropThreads", Napi::Function::New(env, GetNumInteropThreads));
  exports.Set("showConfig", Napi::Function::New(env, ShowConfig));
  exports.Set("parallelInfo", Napi::Function::New(env, ParallelInfo));
  exports.Set("cudaAvailable", Napi::Function::New(env, CudaAvailable));
  exports.Set("version", Napi::Function::New(env, Version));
  return exports;
}

}  // namespace csg

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return csg::Init(env, exports); }
NODE_API_MODULE(csgnet_native, InitModule)
