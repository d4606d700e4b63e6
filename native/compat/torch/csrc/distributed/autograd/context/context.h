// Stand-in for a header that Debian's libtorch-dev 1.13.1 does not ship but c10d/reducer.hpp
// includes. reducer.hpp needs only these two names (a callback type and a shared_ptr it holds);
// the addon never touches distributed-autograd contexts. binding.gyp adds this folder with
// -idirafter, so a LibTorch that has the real header uses it instead.
#pragma once
#include <functional>
#include <memory>
#include <ATen/core/Tensor.h>

namespace torch {
namespace distributed {
namespace autograd {
class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};
using ContextPtr = std::shared_ptr<DistAutogradContext>;
}  // namespace autograd
}  // namespace distributed
}  // namespace torch
