// The one place where JS values become IValues (driven by the op schema) and back.
#include "common.h"

namespace csg {

using c10::TypeKind;

static const std::vector<std::pair<std::string, c10::ScalarType>>& DtypeTable() {
  static const std::vector<std::pair<std::string, c10::ScalarType>> table = {
      {"float32", at::kFloat}, {"float64", at::kDouble}, {"int64", at::kLong}, {"int32", at::kInt},
      {"int16", at::kShort},   {"int8", at::kChar},      {"uint8", at::kByte}, {"bool", at::kBool},
      {"float16", at::kHalf},  {"bfloat16", at::kBFloat16}};
  return table;
}

c10::ScalarType ParseDtype(const Napi::Value& v) {
  if (!v.IsString()) throw Napi::TypeError::New(v.Env(), "dtype must be a string such as 'float32'");
  std::string s = v.As<Napi::String>();
  for (auto& [name, t] : DtypeTable())
    if (name == s) return t;
  throw Napi::TypeError::New(v.Env(), "unknown dtype '" + s + "'");
}

std::string DtypeName(c10::ScalarType t) {
  for (auto& [name, st] : DtypeTable())
    if (st == t) return name;
  return c10::toString(t);
}

static int64_t ToInt(const Napi::Value& v, const std::string& what) {
  if (v.IsBoolean()) return v.As<Napi::Boolean>() ? 1 : 0;
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), what + ": expected an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<int64_t>(d)))
    throw Napi::TypeError::New(v.Env(), what + ": expected an integer, got " + std::to_string(d));
  return static_cast<int64_t>(d);
}

std::vector<int64_t> ToIntVector(const Napi::Value& v) {
  std::vector<int64_t> out;
  if (v.IsNumber()) return {ToInt(v, "int list")};
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "expected an array of integers");
  auto arr = v.As<Napi::Array>();
  out.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(ToInt(arr.Get(i), "int list"));
  return out;
}

static at::Scalar ToScalar(const Napi::Value& v, const std::string& what) {
  if (v.IsBoolean()) return at::Scalar(static_cast<bool>(v.As<Napi::Boolean>()));
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    // JS has one number type: integral values act as Python ints, others as floats.
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.007199254740992e15)
      return at::Scalar(static_cast<int64_t>(d));
    return at::Scalar(d);
  }
  if (TensorWrap::Is(v)) return TensorWrap::Get(v).item();
  throw Napi::TypeError::New(v.Env(), what + ": expected a number");
}

// Enum-like schema ints (ScalarType, MemoryFormat, Layout) accept their names from JS.
static int64_t ToEnumInt(const Napi::Value& v, const c10::Argument& arg) {
  if (!v.IsString()) return ToInt(v, arg.name());
  std::string s = v.As<Napi::String>();
  if (s == "contiguous_format") return static_cast<int64_t>(at::MemoryFormat::Contiguous);
  if (s == "channels_last") return static_cast<int64_t>(at::MemoryFormat::ChannelsLast);
  if (s == "preserve_format") return static_cast<int64_t>(at::MemoryFormat::Preserve);
  if (s == "strided") return static_cast<int64_t>(at::kStrided);
  return static_cast<int64_t>(ParseDtype(v));
}

static c10::IValue ToIValueOfType(const Napi::Value& v, const c10::TypePtr& type, const c10::Argument& arg) {
  Napi::Env env = v.Env();
  const std::string& name = arg.name();
  switch (type->kind()) {
    case TypeKind::TensorType:
      if (!TensorWrap::Is(v)) throw Napi::TypeError::New(env, "argument '" + name + "' must be a tensor");
      return TensorWrap::Get(v);
    case TypeKind::OptionalType:
      if (v.IsNull() || v.IsUndefined()) return c10::IValue();
      return ToIValueOfType(v, type->castRaw<c10::OptionalType>()->getElementType(), arg);
    case TypeKind::IntType:
    case TypeKind::SymIntType:
      // plain ints (dims, sizes): enums arrive as ScalarType/Layout/MemoryFormat real types below
      return ToInt(v, "argument '" + name + "'");
    case TypeKind::FloatType:
      if (!v.IsNumber()) throw Napi::TypeError::New(env, "argument '" + name + "' must be a number");
      return v.As<Napi::Number>().DoubleValue();
    case TypeKind::BoolType:
      if (!v.IsBoolean()) throw Napi::TypeError::New(env, "argument '" + name + "' must be a boolean");
      return static_cast<bool>(v.As<Napi::Boolean>());
    case TypeKind::ScalarTypeType:
    case TypeKind::LayoutType:
    case TypeKind::MemoryFormatType:
      return ToEnumInt(v, arg);
    case TypeKind::NumberType:
      return ToScalar(v, name);
    case TypeKind::StringType:
      if (!v.IsString()) throw Napi::TypeError::New(env, "argument '" + name + "' must be a string");
      return std::string(v.As<Napi::String>());
    case TypeKind::DeviceObjType:
      if (!v.IsString()) throw Napi::TypeError::New(env, "argument '" + name + "' must be a device string");
      return c10::Device(std::string(v.As<Napi::String>()));
    case TypeKind::GeneratorType:
      return c10::IValue();
    case TypeKind::ListType: {
      auto elem = type->castRaw<c10::ListType>()->getElementType();
      auto n = arg.N();
      switch (elem->kind()) {
        case TypeKind::IntType:
        case TypeKind::SymIntType: {
          auto vec = ToIntVector(v);
          // int[2] accepts a single int, as in Python (kernel_size=3).
          if (v.IsNumber() && n && *n > 1) vec.assign(*n, vec[0]);
          return c10::IValue(vec);
        }
        case TypeKind::FloatType: {
          if (v.IsNumber()) return c10::IValue(std::vector<double>(n ? *n : 1, v.As<Napi::Number>().DoubleValue()));
          auto arr = v.As<Napi::Array>();
          std::vector<double> out;
          for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(arr.Get(i).As<Napi::Number>().DoubleValue());
          return c10::IValue(out);
        }
        case TypeKind::BoolType: {
          auto arr = v.As<Napi::Array>();
          c10::List<bool> out;
          for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(arr.Get(i).As<Napi::Boolean>());
          return c10::IValue(out);
        }
        case TypeKind::TensorType: {
          if (!v.IsArray()) throw Napi::TypeError::New(env, "argument '" + name + "' must be an array of tensors");
          auto arr = v.As<Napi::Array>();
          c10::List<at::Tensor> out;
          for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(TensorWrap::Get(arr.Get(i)));
          return c10::IValue(out);
        }
        case TypeKind::OptionalType: {
          if (!v.IsArray()) throw Napi::TypeError::New(env, "argument '" + name + "' must be an array");
          auto arr = v.As<Napi::Array>();
          c10::List<c10::optional<at::Tensor>> out;
          for (uint32_t i = 0; i < arr.Length(); i++) {
            Napi::Value e = arr.Get(i);
            if (e.IsNull() || e.IsUndefined()) out.push_back(c10::nullopt);
            else out.push_back(TensorWrap::Get(e));
          }
          return c10::IValue(out);
        }
        default:
          break;
      }
      break;
    }
    default:
      break;
  }
  throw Napi::TypeError::New(env, "argument '" + name + "' has unsupported type " + type->str());
}

c10::IValue ToIValue(const Napi::Value& v, const c10::Argument& arg) {
  return ToIValueOfType(v, arg.real_type(), arg);
}

Napi::Value FromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) {
    const at::Tensor& t = v.toTensor();
    if (!t.defined()) return env.Null();
    return TensorWrap::Make(env, t);
  }
  if (v.isNone()) return env.Null();
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isTensorList()) {
    auto list = v.toTensorList();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) {
      at::Tensor e = list.get(i);
      arr.Set(i, e.defined() ? Napi::Value(TensorWrap::Make(env, e)) : env.Null());
    }
    return arr;
  }
  if (v.isTuple()) {
    const auto& elems = v.toTupleRef().elements();
    auto arr = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); i++) arr.Set(i, FromIValue(env, elems[i]));
    return arr;
  }
  if (v.isIntList()) {
    auto list = v.toIntVector();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) arr.Set(i, Napi::Number::New(env, static_cast<double>(list[i])));
    return arr;
  }
  if (v.isScalar()) {
    auto s = v.toScalar();
    if (s.isBoolean()) return Napi::Boolean::New(env, s.toBool());
    return Napi::Number::New(env, s.toDouble());
  }
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  throw Napi::TypeError::New(env, "unsupported return type " + v.tagKind());
}

}  // namespace csg
