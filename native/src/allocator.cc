// A size-bucketed caching CPU allocator, installed in place of libtorch's default one.
//
// Why: JS tensor handles are freed by V8's garbage collector in batches, so small native objects
// outlive the large activation buffers allocated between them. With glibc's heap that interleaving
// leaves every freed activation as a hole a little too small for the next aligned request, and the
// process grows by one step's activations per step until the event loop turns (measured: +40 MiB per
// ResNet-20 step in a synchronous loop). Caching large blocks by size, like PyTorch's CUDA caching
// allocator, reuses them exactly and also saves the page faults of fresh allocations.
#include "common.h"
#include "torch_compat.h"
#include <c10/core/CPUAllocator.h>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace csg {
namespace {

constexpr size_t kAlign = 64;              // c10's CPU alignment
constexpr size_t kMinCached = 4 << 10;     // smaller blocks are plain posix_memalign/free

struct Cache {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free;  // bucket size -> cached blocks
  std::unordered_map<void*, size_t> live;               // cacheable blocks in use -> bucket size
  size_t cachedBytes = 0;
  size_t limitBytes = size_t(1) << 30;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: tensors may be freed during static destruction
  return *c;
}

size_t bucketOf(size_t n) {
  const size_t g = n < (size_t(1) << 20) ? 4096 : (size_t(64) << 10);
  return (n + g - 1) / g * g;
}

// The one deleter (also the raw deleter oneDNN uses): large blocks return to the cache.
void deleteBlock(void* ptr) {
  if (!ptr) return;
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.live.find(ptr);
    if (it != c.live.end()) {
      const size_t size = it->second;
      c.live.erase(it);
      if (c.cachedBytes + size <= c.limitBytes) {
        c.free[size].push_back(ptr);
        c.cachedBytes += size;
        return;
      }
    }
  }
  std::free(ptr);
}

void* alignedAlloc(size_t n) {
  void* p = nullptr;
  if (posix_memalign(&p, kAlign, n ? n : kAlign) != 0) return nullptr;
  return p;
}

class CachingCPUAllocator final : public at::Allocator {
 public:
  at::DataPtr allocate(size_t n) CSG_ALLOCATE_CONST override {
    const at::Device cpu(at::DeviceType::CPU);
    if (n < kMinCached) {
      void* p = alignedAlloc(n);
      TORCH_CHECK(p, "csgnet: out of CPU memory allocating ", n, " bytes");
      return {p, p, &deleteBlock, cpu};
    }
    const size_t size = bucketOf(n);
    void* p = nullptr;
    Cache& c = cache();
    {
      std::lock_guard<std::mutex> lock(c.mu);
      auto it = c.free.find(size);
      if (it != c.free.end() && !it->second.empty()) {
        p = it->second.back();
        it->second.pop_back();
        c.cachedBytes -= size;
      }
    }
    if (!p) {
      p = alignedAlloc(size);
      if (!p) {
        releaseCached();
        p = alignedAlloc(size);
      }
      TORCH_CHECK(p, "csgnet: out of CPU memory allocating ", n, " bytes");
    }
    std::lock_guard<std::mutex> lock(c.mu);
    c.live[p] = size;
    return {p, p, &deleteBlock, cpu};
  }

  at::DeleterFnPtr raw_deleter() const override { return &deleteBlock; }

#if CSG_ALLOCATOR_HAS_COPY_DATA
  void copy_data(void* dest, const void* src, std::size_t count) const override { std::memcpy(dest, src, count); }
#endif

  static void releaseCached() {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    for (auto& kv : c.free)
      for (void* p : kv.second) std::free(p);
    c.free.clear();
    c.cachedBytes = 0;
  }
};

}  // namespace

// emptyCache() frees every cached block; cachedBytes() reports them; setCacheLimit(bytes) caps them.
static Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  CachingCPUAllocator::releaseCached();
  return info.Env().Undefined();
}

static Napi::Value CachedBytes(const Napi::CallbackInfo& info) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return Napi::Number::New(info.Env(), static_cast<double>(c.cachedBytes));
}

static Napi::Value SetCacheLimit(const Napi::CallbackInfo& info) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.limitBytes = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

void InitAllocator(Napi::Env env, Napi::Object exports) {
  static bool installed = false;
  if (!installed && !std::getenv("CSGNET_DEFAULT_ALLOCATOR")) {
    static CachingCPUAllocator alloc;
    c10::SetCPUAllocator(&alloc, /*priority=*/1);
    installed = true;
  }
  if (const char* mb = std::getenv("CSGNET_CPU_CACHE_MB")) cache().limitBytes = size_t(std::atoll(mb)) << 20;
  exports.Set("emptyCache", Napi::Function::New(env, EmptyCache));
  exports.Set("cachedBytes", Napi::Function::New(env, CachedBytes));
  exports.Set("setCacheLimit", Napi::Function::New(env, SetCacheLimit));
}

}  // namespace csg
