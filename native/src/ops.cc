// Every ATen operator, called by name through the dispatcher (boxed), so that autograd,
// CPU/CUDA kernels and composite ops work exactly as they do from PyTorch.
#include "common.h"

namespace csg {

static std::vector<c10::OperatorHandle>& Handles() {
  static std::vector<c10::OperatorHandle> handles;
  return handles;
}

// opHandle(name, overload) -> integer id for op(); resolves e.g. ("aten::add", "Tensor").
static Napi::Value OpHandle(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    std::string name = info[0].As<Napi::String>();
    std::string overload = info[1].IsString() ? std::string(info[1].As<Napi::String>()) : "";
    auto h = c10::Dispatcher::singleton().findSchema({name, overload});
    if (!h) throw Napi::Error::New(info.Env(), "no such operator: " + name + (overload.empty() ? "" : "." + overload));
    Handles().push_back(*h);
    return Napi::Number::New(info.Env(), static_cast<double>(Handles().size() - 1));
  });
}

// opSchema(id) -> the schema string, for error messages and docs.
static Napi::Value OpSchema(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto id = info[0].As<Napi::Number>().Int64Value();
    return Napi::String::New(info.Env(), c10::toString(Handles().at(id).schema()));
  });
}

// op(id, args[]) -> result. Missing/undefined args take the schema default; null means None.
static Napi::Value Op(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto id = info[0].As<Napi::Number>().Int64Value();
    const auto& handle = Handles().at(id);
    const auto& schema = handle.schema();
    auto args = info[1].As<Napi::Array>();
    const auto& formal = schema.arguments();
    if (args.Length() > formal.size())
      throw Napi::TypeError::New(info.Env(), schema.name() + ": too many arguments (" + std::to_string(args.Length()) + ")");
    torch::jit::Stack stack;
    stack.reserve(formal.size());
    for (size_t i = 0; i < formal.size(); i++) {
      Napi::Value v = i < args.Length() ? args.Get(i) : info.Env().Undefined();
      if (v.IsUndefined()) {
        if (formal[i].default_value()) stack.push_back(*formal[i].default_value());
        else if (formal[i].type()->kind() == c10::TypeKind::OptionalType) stack.emplace_back();
        else throw Napi::TypeError::New(info.Env(), schema.name() + ": missing argument '" + formal[i].name() + "'");
      } else {
        stack.push_back(ToIValue(v, formal[i]));
      }
    }
    handle.callBoxed(&stack);
    if (stack.empty()) return info.Env().Undefined();
    if (stack.size() == 1) return FromIValue(info.Env(), stack[0]);
    auto arr = Napi::Array::New(info.Env(), stack.size());
    for (size_t i = 0; i < stack.size(); i++) arr.Set(i, FromIValue(info.Env(), stack[i]));
    return arr;
  });
}

void InitOps(Napi::Env env, Napi::Object exports) {
  exports.Set("opHandle", Napi::Function::New(env, OpHandle));
  exports.Set("opSchema", Napi::Function::New(env, OpSchema));
  exports.Set("op", Napi::Function::New(env, Op));
}

}  // namespace csg
