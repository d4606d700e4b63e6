// The tensor handle and the non-op tensor entry points: metadata, buffers, grad, disposal.
#include "common.h"
#include <atomic>
#include <cstring>

namespace csg {

static std::atomic<int64_t> g_live{0};

Napi::Function TensorWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeTensor", {});
}

TensorWrap::TensorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorWrap>(info) {}

TensorWrap::~TensorWrap() {
  // Env teardown path (Finalize did not run): only drop the reference.
  if (tensor.defined()) g_live--;
}

void TensorWrap::Finalize(Napi::Env env) { Release(env); }

void TensorWrap::Release(Napi::Env env) {
  if (!tensor.defined()) return;
  tensor = at::Tensor();
  g_live--;
  if (accounted_) Napi::MemoryManagement::AdjustExternalMemory(env, -accounted_);
  accounted_ = 0;
}

int64_t TensorWrap::Live() { return g_live.load(); }

Napi::Object TensorWrap::Make(Napi::Env env, at::Tensor t) {
  auto* data = env.GetInstanceData<AddonData>();
  Napi::Object obj = data->tensorCtor.New({});
  auto* w = Napi::ObjectWrap<TensorWrap>::Unwrap(obj);
  // Report owned storage only (views share it) so that V8 schedules GC under native pressure.
  if (t.defined() && !t.is_view() && t.has_storage() && t.device().is_cpu()) {
    w->accounted_ = static_cast<int64_t>(t.storage().nbytes());
    if (w->accounted_) Napi::MemoryManagement::AdjustExternalMemory(env, w->accounted_);
  }
  if (t.defined()) g_live++;  // Release/~TensorWrap only decrement for defined tensors
  w->tensor = std::move(t);
  return obj;
}

bool TensorWrap::Is(const Napi::Value& v) {
  if (!v.IsObject()) return false;
  auto* data = v.Env().GetInstanceData<AddonData>();
  return v.As<Napi::Object>().InstanceOf(data->tensorCtor.Value());
}

at::Tensor& TensorWrap::Get(const Napi::Value& v) {
  if (!Is(v)) throw Napi::TypeError::New(v.Env(), "expected a native tensor handle");
  auto* w = Napi::ObjectWrap<TensorWrap>::Unwrap(v.As<Napi::Object>());
  if (!w->tensor.defined()) throw Napi::Error::New(v.Env(), "tensor was disposed");
  return w->tensor;
}

static Napi::Value Shape(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto sizes = TensorWrap::Get(info[0]).sizes();
    auto arr = Napi::Array::New(info.Env(), sizes.size());
    for (size_t i = 0; i < sizes.size(); i++) arr.Set(i, Napi::Number::New(info.Env(), static_cast<double>(sizes[i])));
    return arr;
  });
}

static Napi::Value Strides(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto st = TensorWrap::Get(info[0]).strides();
    auto arr = Napi::Array::New(info.Env(), st.size());
    for (size_t i = 0; i < st.size(); i++) arr.Set(i, Napi::Number::New(info.Env(), static_cast<double>(st[i])));
    return arr;
  });
}

static Napi::Value Dtype(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    return Napi::String::New(info.Env(), DtypeName(TensorWrap::Get(info[0]).scalar_type()));
  });
}

static Napi::Value Device(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    return Napi::String::New(info.Env(), TensorWrap::Get(info[0]).device().str());
  });
}

static Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    return Napi::Boolean::New(info.Env(), TensorWrap::Get(info[0]).requires_grad());
  });
}

static Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    return Napi::Boolean::New(info.Env(), TensorWrap::Get(info[0]).is_leaf());
  });
}

static Napi::Value GetGrad(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const at::Tensor& g = TensorWrap::Get(info[0]).grad();
    if (!g.defined()) return info.Env().Null();
    return TensorWrap::Make(info.Env(), g);
  });
}

static Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    at::Tensor& t = TensorWrap::Get(info[0]);
    if (info[1].IsNull() || info[1].IsUndefined()) {
      t.mutable_grad() = at::Tensor();
    } else {
      // the checks of PyTorch's Tensor.grad setter (a mis-shaped grad would broadcast during accumulation)
      const at::Tensor& g = TensorWrap::Get(info[1]);
      TORCH_CHECK(!g.is_same(t), "can't assign Variable as its own grad");
      TORCH_CHECK(g.dtype() == t.dtype(), "assigned grad has data of a different type");
      TORCH_CHECK(g.device() == t.device(), "assigned grad has data located on a different device");
      TORCH_CHECK(g.sizes().equals(t.sizes()), "assigned grad has data of a different size");
      t.mutable_grad() = g;
    }
    return info.Env().Undefined();
  });
}

static Napi::Value Dispose(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    if (TensorWrap::Is(info[0])) Napi::ObjectWrap<TensorWrap>::Unwrap(info[0].As<Napi::Object>())->Release(info.Env());
    return info.Env().Undefined();
  });
}

static Napi::Value IsDisposed(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    if (!TensorWrap::Is(info[0])) return Napi::Boolean::New(info.Env(), true);
    auto* w = Napi::ObjectWrap<TensorWrap>::Unwrap(info[0].As<Napi::Object>());
    return Napi::Boolean::New(info.Env(), !w->tensor.defined());
  });
}

static Napi::Value LiveTensors(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(TensorWrap::Live()));
}

// fromBuffer(bytes: ArrayBuffer | TypedArray, shape: number[], dtype: string) -> tensor (copy)
static Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    const uint8_t* src;
    size_t len;
    if (info[0].IsArrayBuffer()) {
      auto ab = info[0].As<Napi::ArrayBuffer>();
      src = static_cast<const uint8_t*>(ab.Data());
      len = ab.ByteLength();
    } else if (info[0].IsTypedArray()) {
      auto ta = info[0].As<Napi::TypedArray>();
      src = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
      len = ta.ByteLength();
    } else {
      throw Napi::TypeError::New(info.Env(), "fromBuffer: expected an ArrayBuffer or a typed array");
    }
    auto shape = ToIntVector(info[1]);
    auto dtype = ParseDtype(info[2]);
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
    if (static_cast<size_t>(t.nbytes()) != len)
      throw Napi::RangeError::New(info.Env(), "fromBuffer: " + std::to_string(len) + " bytes given but shape " +
                                                  c10::str(t.sizes()) + " of " + DtypeName(dtype) + " needs " +
                                                  std::to_string(t.nbytes()));
    if (len) std::memcpy(t.data_ptr(), src, len);
    return TensorWrap::Make(info.Env(), t);
  });
}

// toBuffer(tensor) -> ArrayBuffer with the contiguous CPU data (a copy)
static Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    at::Tensor t = TensorWrap::Get(info[0]).detach().to(at::kCPU).contiguous();
    auto ab = Napi::ArrayBuffer::New(info.Env(), t.nbytes());
    if (t.nbytes()) std::memcpy(ab.Data(), t.data_ptr(), t.nbytes());
    return ab;
  });
}

void InitTensor(Napi::Env env, Napi::Object exports) {
  auto* data = env.GetInstanceData<AddonData>();
  Napi::Function ctor = TensorWrap::Define(env);
  data->tensorCtor = Napi::Persistent(ctor);
  exports.Set("NativeTensor", ctor);
  exports.Set("shape", Napi::Function::New(env, Shape));
  exports.Set("strides", Napi::Function::New(env, Strides));
  exports.Set("dtype", Napi::Function::New(env, Dtype));
  exports.Set("device", Napi::Function::New(env, Device));
  exports.Set("requiresGrad", Napi::Function::New(env, RequiresGrad));
  exports.Set("isLeaf", Napi::Function::New(env, IsLeaf));
  exports.Set("getGrad", Napi::Function::New(env, GetGrad));
  exports.Set("setGrad", Napi::Function::New(env, SetGrad));
  exports.Set("dispose", Napi::Function::New(env, Dispose));
  exports.Set("isDisposed", Napi::Function::New(env, IsDisposed));
  exports.Set("liveTensors", Napi::Function::New(env, LiveTensors));
  exports.Set("fromBuffer", Napi::Function::New(env, FromBuffer));
  exports.Set("toBuffer", Napi::Function::New(env, ToBuffer));
}

}  // namespace csg
