// The one place where the addon differs between libtorch releases. csgnet builds from one source
// against Debian 12's libtorch 1.13.1, Debian 13's 2.6.0 and any LibTorch 2.x; every version test is
// here, named after what changed, and the code elsewhere uses these names only.
#pragma once
#include <torch/version.h>

#define CSG_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// c10::Allocator (2.3): allocate() is no longer const, and copy_data() is a new pure virtual
// (what Allocator::clone copies with).
#if CSG_TORCH_AT_LEAST(2, 3)
#define CSG_ALLOCATE_CONST
#define CSG_ALLOCATOR_HAS_COPY_DATA 1
#else
#define CSG_ALLOCATE_CONST const
#define CSG_ALLOCATOR_HAS_COPY_DATA 0
#endif

// c10d (2.0): ProcessGroupGloo is a c10d::Backend, no longer a ProcessGroup. torch.distributed
// builds a c10d::ProcessGroup over the store, rank and size, and registers the gloo backend for CPU
// tensors; the Reducer, broadcast_coalesced and the collectives take the ProcessGroup. On 1.13
// ProcessGroupGloo is itself the ProcessGroup.
#define CSG_C10D_HAS_BACKEND CSG_TORCH_AT_LEAST(2, 0)


// c10d::TCPStoreOptions::useLibUV (added in 2.x, on by default since 2.4): Debian's 2.6 is built
// without libuv and then refuses the default ("use_libuv was requested but PyTorch was build without
// libuv support"). The classic TCPStore server exists in every release, so it is asked for wherever
// the option exists; detected by the member itself, since the release that added it is not one csgnet
// was built on.
namespace csg_compat {
template <typename Options>
auto classicTcpStore(Options& o, int) -> decltype(o.useLibUV = false, void()) { o.useLibUV = false; }
template <typename Options>
void classicTcpStore(Options&, long) {}
}  // namespace csg_compat
#define CSG_CLASSIC_TCPSTORE(options) csg_compat::classicTcpStore(options, 0)
