// c10d process groups (gloo): a store (TCPStore or FileStore) plus ProcessGroupGloo, with
// allreduce / broadcast / allgather / barrier. Collectives are enqueued on the main thread (so every
// rank issues them in JS call order) and settle a Promise when gloo completes them, so the event
// loop keeps running; gloo's timeout and peer failures reject the Promise.
#if !__has_include(<gloo/config.h>)
#error "gloo headers not found: install libgloo-dev (apt-get install -y libgloo-dev), needed for c10d's ProcessGroupGloo"
#endif
#include "common.h"
#include "torch_compat.h"
#include <functional>
#include <thread>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#include <torch/csrc/autograd/custom_function.h>

namespace csg {

// What the addon holds and passes to the Reducer, broadcast_coalesced and collectives: the
// ProcessGroup (on 1.13, ProcessGroupGloo is one; on 2.x it is the backend behind one).
using PG = c10d::ProcessGroup;
using Gloo = c10d::ProcessGroupGloo;

// A gloo process group over the store, as torch.distributed's init_process_group(backend="gloo") builds it.
static c10::intrusive_ptr<PG> MakeGlooGroup(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                            const c10::intrusive_ptr<Gloo::Options>& opts) {
  auto gloo = c10::make_intrusive<Gloo>(store, rank, size, opts);
#if CSG_C10D_HAS_BACKEND
  auto pg = c10::make_intrusive<PG>(store, rank, size);
  pg->setBackend(c10::DeviceType::CPU, PG::BackendType::GLOO, gloo);
  pg->setDefaultBackend(PG::BackendType::GLOO);
  return pg;
#else
  return gloo;
#endif
}

// The libtorch/gloo message of the exception in flight.
static std::string CurrentError() {
  try {
    throw;
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

// Runs `work` on a libuv worker thread (for the blocking teardown) and settles a Promise: resolved with `done(env)`, or rejected
// with the libtorch/gloo message.
class Task : public Napi::AsyncWorker {
 public:
  Task(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done)
      : Napi::AsyncWorker(env, "csgnet.dist"), deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)), done_(std::move(done)) {}

  static Napi::Value Start(Napi::Env env, std::function<void()> work,
                           std::function<Napi::Value(Napi::Env)> done = nullptr) {
    auto* task = new Task(env, std::move(work), std::move(done));
    auto promise = task->deferred_.Promise();
    task->Queue();
    return promise;
  }

 protected:
  void Execute() override {
    try {
      work_();
    } catch (...) {
      SetError(CurrentError());
    }
    work_ = nullptr;  // drop captured process-group references here, off the main thread
  }
  void OnOK() override { deferred_.Resolve(done_ ? done_(Env()) : Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> work_;
  std::function<Napi::Value(Napi::Env)> done_;
};

// Settles a Promise on the main thread: rejected with `error` when set, else resolved with done(env).
static void Settle(Napi::Env env, Napi::Promise::Deferred& deferred, const std::string& error,
                   const std::function<Napi::Value(Napi::Env)>& done) {
  if (!error.empty()) return deferred.Reject(Napi::Error::New(env, error).Value());
  try {
    deferred.Resolve(done ? done(env) : env.Undefined());
  } catch (const Napi::Error& e) {
    deferred.Reject(e.Value());
  }
}

// As Task, but on a thread of its own, detached, settling through an unreferenced thread-safe function:
// for the rendezvous, which may never return (TCPStore's client reads some replies without a timeout,
// so a MASTER_PORT held by another program holds it forever). Such a thread then holds no libuv pool
// thread (which process exit joins) and does not keep the event loop alive; the caller
// (src/torch/distributed.ts) bounds the wait with its own timer and abandons the thread.
struct Detached {
  Napi::Promise::Deferred deferred;
  std::function<Napi::Value(Napi::Env)> done;
  std::string error;
};
static Napi::Value StartDetached(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done) {
  auto* d = new Detached{Napi::Promise::Deferred::New(env), std::move(done), {}};
  auto promise = d->deferred.Promise();
  auto tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                            "csgnet.dist.rendezvous", 0, 1);
  tsfn.Unref(env);
  std::thread([tsfn, d, work = std::move(work)]() mutable {
    try {
      work();
    } catch (...) {
      d->error = CurrentError();
      if (d->error.empty()) d->error = "rendezvous failed";
    }
    work = nullptr;
    auto status = tsfn.BlockingCall(d, [](Napi::Env env, Napi::Function, Detached* d) {
      std::unique_ptr<Detached> own(d);
      Settle(env, d->deferred, d->error, d->done);
    });
    // Not delivered (the environment is closing, the process exits): d is left to the exit.
    (void)status;
    tsfn.Release();
  }).detach();
  return promise;
}

static Napi::Function Ctor(Napi::Env env);

// A JS object owning one ProcessGroupGloo (and, through it, its store).
class GroupWrap : public Napi::ObjectWrap<GroupWrap> {
 public:
  c10::intrusive_ptr<PG> pg;
  explicit GroupWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GroupWrap>(info) {}

  static c10::intrusive_ptr<PG> Get(const Napi::Value& v) {
    if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(Ctor(v.Env())))
      throw Napi::TypeError::New(v.Env(), "expected a native process group");
    auto* w = Unwrap(v.As<Napi::Object>());
    if (!w->pg) throw Napi::Error::New(v.Env(), "process group was destroyed");
    return w->pg;
  }
};

static Napi::Function Ctor(Napi::Env env) { return env.GetInstanceData<AddonData>()->groupCtor.Value(); }

static std::string Str(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? std::string(v.As<Napi::String>()) : std::string();
}
static int64_t Int(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("process group option '") + key + "' must be a number");
  return v.As<Napi::Number>().Int64Value();
}

// The gloo transport device: GLOO_SOCKET_IFNAME as in PyTorch; loopback for an all-local group;
// otherwise the address this host's name resolves to (gloo's default).
static std::shared_ptr<::gloo::transport::Device> Device(const std::string& masterAddr) {
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  if (ifname && *ifname) return Gloo::createDeviceForInterface(ifname);
  if (masterAddr == "127.0.0.1" || masterAddr == "localhost" || masterAddr == "::1")
    return Gloo::createDeviceForHostname(masterAddr == "::1" ? "::1" : "127.0.0.1");
  return Gloo::createDefaultDevice();
}

// newGloo({rank, worldSize, masterAddr, masterPort, timeoutMs, storePath}) -> Promise<group>.
// Blocking parts (store rendezvous, full-mesh connect) run on a detached thread (StartDetached).
static Napi::Value NewGloo(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto o = info[0].As<Napi::Object>();
    int rank = static_cast<int>(Int(o, "rank"));
    int size = static_cast<int>(Int(o, "worldSize"));
    auto timeout = std::chrono::milliseconds(Int(o, "timeoutMs"));
    std::string addr = Str(o, "masterAddr"), storePath = Str(o, "storePath");
    int port = storePath.empty() ? static_cast<int>(Int(o, "masterPort")) : 0;
    auto result = std::make_shared<c10::intrusive_ptr<PG>>();
    return StartDetached(
        info.Env(),
        [=]() {
          c10::intrusive_ptr<c10d::Store> store;
          if (storePath.empty()) {
            c10d::TCPStoreOptions so;
            so.port = static_cast<std::uint16_t>(port);
            so.isServer = rank == 0;
            so.numWorkers = size;
            so.timeout = timeout;
            CSG_CLASSIC_TCPSTORE(so);
            store = c10::make_intrusive<c10d::TCPStore>(addr, so);
          } else {
            store = c10::make_intrusive<c10d::FileStore>(storePath, size);
            store->setTimeout(timeout);
          }
          auto opts = Gloo::Options::create(timeout);
          opts->devices.push_back(Device(storePath.empty() ? addr : "127.0.0.1"));
          *result = MakeGlooGroup(store, rank, size, opts);
        },
        [result](Napi::Env env) -> Napi::Value {
          Napi::Object obj = Ctor(env).New({});
          GroupWrap::Unwrap(obj)->pg = std::move(*result);
          return obj;
        });
  });
}

// What a Promise for a collective needs until its work completes.
struct Pending {
  Napi::Promise::Deferred deferred;
  Napi::ObjectReference group;  // keeps the group alive (no GC, no blocking destructor) meanwhile
  std::function<Napi::Value(Napi::Env)> done;
  std::string error;  // set on the gloo thread
};

// Settles a Promise when a collective completes. The work's future calls back on gloo's own thread,
// which hands over to the main thread through a thread-safe function: no libuv thread sits waiting
// (the pool stays free for file and image I/O), and the pending call keeps the event loop alive.
static Napi::Value Await(Napi::Env env, Napi::Object group, c10::intrusive_ptr<c10d::Work> work,
                         std::function<Napi::Value(Napi::Env)> done = nullptr) {
  auto* p = new Pending{Napi::Promise::Deferred::New(env), Napi::Persistent(group), std::move(done), {}};
  auto promise = p->deferred.Promise();
  auto tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                            "csgnet.dist", 0, 1);
  work->getFuture()->addCallback([tsfn, p](c10::ivalue::Future& f) mutable {
    if (auto eptr = f.exception_ptr()) {
      try {
        std::rethrow_exception(eptr);
      } catch (...) {
        p->error = CurrentError();
      }
      if (p->error.empty()) p->error = "collective failed";
    }
    tsfn.BlockingCall(p, [](Napi::Env env, Napi::Function, Pending* p) {
      std::unique_ptr<Pending> own(p);
      Settle(env, p->deferred, p->error, p->done);
    });
    tsfn.Release();
  });
  return promise;
}

// allReduce(group, tensor) -> Promise<void>: in-place sum over ranks.
static Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto pg = GroupWrap::Get(info[0]);
    std::vector<at::Tensor> ts{TensorWrap::Get(info[1])};
    return Await(info.Env(), info[0].As<Napi::Object>(), pg->allreduce(ts));
  });
}

// broadcast(group, tensor, srcRank) -> Promise<void>: in place, from srcRank.
static Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto pg = GroupWrap::Get(info[0]);
    std::vector<at::Tensor> ts{TensorWrap::Get(info[1])};
    c10d::BroadcastOptions opts;
    opts.rootRank = info[2].As<Napi::Number>().Int64Value();
    return Await(info.Env(), info[0].As<Napi::Object>(), pg->broadcast(ts, opts));
  });
}

// allGather(group, tensor) -> Promise<tensor[]>: one tensor per rank, in rank order.
static Napi::Value AllGather(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto pg = GroupWrap::Get(info[0]);
    std::vector<at::Tensor> in{TensorWrap::Get(info[1])};
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < pg->getSize(); r++) out[0].push_back(at::empty_like(in[0]));
    auto work = pg->allgather(out, in);
    return Await(info.Env(), info[0].As<Napi::Object>(), work, [out](Napi::Env env) -> Napi::Value {
      auto arr = Napi::Array::New(env, out[0].size());
      for (size_t i = 0; i < out[0].size(); i++) arr.Set(i, TensorWrap::Make(env, out[0][i]));
      return arr;
    });
  });
}

static Napi::Value Barrier(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto pg = GroupWrap::Get(info[0]);
    return Await(info.Env(), info[0].As<Napi::Object>(), pg->barrier());
  });
}

// destroy(group) -> Promise<void>: releases the group off the main thread (its destructor joins
// gloo's threads). Idempotent.
static Napi::Value Destroy(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    if (!info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(Ctor(info.Env())))
      throw Napi::TypeError::New(info.Env(), "expected a native process group");
    auto* w = GroupWrap::Unwrap(info[0].As<Napi::Object>());
    auto pg = std::move(w->pg);
    return Task::Start(info.Env(), [pg]() mutable { pg.reset(); });
  });
}

// The backends this build offers (NCCL needs a CUDA libtorch; Debian's has none).
static Napi::Value Backends(const Napi::CallbackInfo& info) {
  auto arr = Napi::Array::New(info.Env(), 1);
  arr.Set(0u, Napi::String::New(info.Env(), "gloo"));
  return arr;
}


// --- Data parallel: libtorch's own DDP machinery, bound as it is -------------------------------

// A JS object owning one c10d::Reducer (DDP's gradient bucketing and allreduce, started from
// autograd hooks while backward still runs, and waited for at the end of backward).
class ReducerWrap : public Napi::ObjectWrap<ReducerWrap> {
 public:
  std::shared_ptr<c10d::Reducer> reducer;
  explicit ReducerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ReducerWrap>(info) {}
  static c10d::Reducer& Get(const Napi::Value& v) {
    if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(v.Env().GetInstanceData<AddonData>()->reducerCtor.Value()))
      throw Napi::TypeError::New(v.Env(), "expected a native gradient reducer");
    auto* w = Unwrap(v.As<Napi::Object>());
    if (!w->reducer) throw Napi::Error::New(v.Env(), "gradient reducer was disposed");
    return *w->reducer;
  }
};

static std::vector<at::Tensor> Tensors(const Napi::Value& v) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "expected an array of tensors");
  auto arr = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(TensorWrap::Get(arr.Get(i)));
  return out;
}

// reducerNew(group, params, bucketBytes, firstBucketBytes) -> reducer. As DistributedDataParallel
// builds it: buckets by size in parameter order, then reversed (gradients arrive roughly in reverse).
static Napi::Value ReducerNew(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto pg = GroupWrap::Get(info[0]);
    auto params = Tensors(info[1]);
    auto cap = info[2].As<Napi::Number>().Int64Value();
    auto first = info[3].As<Napi::Number>().Int64Value();
    if (params.empty()) throw Napi::Error::New(info.Env(), "gradient reducer: no parameters");
    for (size_t i = 0; i < params.size(); i++)
      if (!params[i].requires_grad() || !params[i].is_leaf())
        throw Napi::Error::New(info.Env(), "gradient reducer: parameter " + std::to_string(i) + " is not a leaf tensor that requires grad");
    std::vector<bool> sparse(params.size(), false);
    std::vector<std::vector<size_t>> buckets;
    std::vector<size_t> limits;
    std::tie(buckets, limits) = c10d::compute_bucket_assignment_by_size(
        params, {static_cast<size_t>(first), static_cast<size_t>(cap)}, sparse);
    std::reverse(buckets.begin(), buckets.end());
    std::reverse(limits.begin(), limits.end());
    auto r = std::make_shared<c10d::Reducer>(params, buckets, limits, pg, sparse, cap,
                                             /*find_unused_parameters=*/false, /*gradient_as_bucket_view=*/false,
                                             std::unordered_map<size_t, std::string>{}, first);
    Napi::Object obj = info.Env().GetInstanceData<AddonData>()->reducerCtor.Value().New({});
    ReducerWrap::Unwrap(obj)->reducer = std::move(r);
    return obj;
  });
}

// reducerPrepare(reducer): what DDP's forward does before the loss's backward: rebuild the buckets
// in the order gradients came in the first iteration (one broadcast of the layout from rank 0), then
// arm the hooks. Every parameter must receive a gradient in the backward that follows.
static Napi::Value ReducerPrepare(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto& r = ReducerWrap::Get(info[0]);
    r.rebuild_buckets();
    r.prepare_for_forward();
    r.prepare_for_backward({});
    return info.Env().Undefined();
  });
}

static Napi::Value ReducerDispose(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    ReducerWrap::Get(info[0]);
    ReducerWrap::Unwrap(info[0].As<Napi::Object>())->reducer.reset();
    return info.Env().Undefined();
  });
}

// broadcastCoalesced(group, tensors, src, bufferBytes): in place, from rank src, packed into flat
// buffers (DDP's start-of-training and per-forward buffer sync). Blocks until done or the timeout.
static Napi::Value BroadcastCoalesced(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto pg = GroupWrap::Get(info[0]);
    auto ts = Tensors(info[1]);
    int src = static_cast<int>(info[2].As<Napi::Number>().Int64Value());
    auto bytes = static_cast<size_t>(info[3].As<Napi::Number>().Int64Value());
    at::NoGradGuard no_grad;
    if (!ts.empty()) c10d::broadcast_coalesced(pg, ts, bytes, src);
    return info.Env().Undefined();
  });
}

// Sum over ranks as an autograd op (torch.distributed.nn.functional.all_reduce): the gradient of a
// sum that every rank receives is the sum of every rank's gradient. Blocks in forward and backward.
struct AllReduceSum : public torch::autograd::Function<AllReduceSum> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, c10::intrusive_ptr<PG> pg) {
    ctx->saved_data["pg"] = c10::IValue::make_capsule(pg);
    std::vector<at::Tensor> out{x.clone(at::MemoryFormat::Contiguous)};
    pg->allreduce(out)->wait();
    return out[0];
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto pg = c10::static_intrusive_pointer_cast<PG>(ctx->saved_data["pg"].toCapsule());
    std::vector<at::Tensor> g{grads[0].clone(at::MemoryFormat::Contiguous)};
    pg->allreduce(g)->wait();
    return {g[0], at::Tensor()};
  }
};

// allReduceAutograd(group, tensor) -> new tensor, the sum over ranks, differentiable.
static Napi::Value AllReduceAutograd(const Napi::CallbackInfo& info) {
  return Guard(info, [&]() -> Napi::Value {
    auto pg = GroupWrap::Get(info[0]);
    return TensorWrap::Make(info.Env(), AllReduceSum::apply(TensorWrap::Get(info[1]), pg));
  });
}

void InitDist(Napi::Env env, Napi::Object exports) {
  env.GetInstanceData<AddonData>()->groupCtor = Napi::Persistent(GroupWrap::DefineClass(env, "NativeProcessGroup", {}));
  exports.Set("distBackends", Napi::Function::New(env, Backends));
  exports.Set("distNewGloo", Napi::Function::New(env, NewGloo));
  exports.Set("distAllReduce", Napi::Function::New(env, AllReduce));
  exports.Set("distBroadcast", Napi::Function::New(env, Broadcast));
  exports.Set("distAllGather", Napi::Function::New(env, AllGather));
  exports.Set("distBarrier", Napi::Function::New(env, Barrier));
  exports.Set("distDestroy", Napi::Function::New(env, Destroy));
  env.GetInstanceData<AddonData>()->reducerCtor = Napi::Persistent(ReducerWrap::DefineClass(env, "NativeReducer", {}));
  exports.Set("distReducerNew", Napi::Function::New(env, ReducerNew));
  exports.Set("distReducerPrepare", Napi::Function::New(env, ReducerPrepare));
  exports.Set("distReducerDispose", Napi::Function::New(env, ReducerDispose));
  exports.Set("distBroadcastCoalesced", Napi::Function::New(env, BroadcastCoalesced));
  exports.Set("distAllReduceAutograd", Napi::Function::New(env, AllReduceAutograd));
}

}  // namespace csg
