#!/usr/bin/env bash
# Runs the test suite (scripts/test.sh) on a fresh Debian 12 (bookworm) or 13 (trixie) root made with
# debootstrap, so that CI proves the project builds and passes on both libtorch-dev releases (1.13.1 and 2.6.0)
# whatever release the host runs. Usage (as root):
#   bash scripts/test-in-debian.sh 12|13 [--shell] [--no-test] [--fresh]
# The root is cached in $CSGNET_CHROOT_CACHE (default /var/cache/csgnet-chroot/debian-N) and reused while it
# is younger than $CSGNET_CHROOT_MAX_AGE_DAYS (default 7) and was made by this version of the script;
# --fresh makes a new one. The project is copied in anew every time (tracked and untracked, not ignored,
# files), with ../shared beside it when present. proc, sys and dev are mounted and always unmounted on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

rel=${1:-}
shift || true
case "$rel" in
  12) codename=bookworm ;;
  13) codename=trixie ;;
  *) echo "usage: $0 12|13 [--shell] [--no-test] [--fresh]" >&2; exit 2 ;;
esac
shell=0; run_tests=1; fresh=0
for a in "$@"; do
  case "$a" in
    --shell) shell=1 ;;
    --no-test) run_tests=0 ;;
    --fresh) fresh=1 ;;
    *) echo "$0: unknown option '$a'" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then echo "$0: must run as root (debootstrap, chroot, mounts)" >&2; exit 2; fi

cache=${CSGNET_CHROOT_CACHE:-/var/cache/csgnet-chroot}
root="$cache/debian-$rel"
max_age=${CSGNET_CHROOT_MAX_AGE_DAYS:-7}
# The root's recipe: a change to this script (or the host's Node, copied in on 12) makes a new root.
recipe=$(cat "$repo/scripts/test-in-debian.sh" <(node --version 2>/dev/null || true) | sha256sum | cut -c1-16)

# The Debian mirror the host uses (deb822 first, then the one-line format).
mirror=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  mirror=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)
fi
mirror=${mirror:-http://deb.debian.org/debian}
security=${mirror%/debian}/debian-security

mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  # `ip netns add` (the multi-host tests) bind-mounts the root's /run/netns onto itself.
  umount -l "$root/run/netns" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# NODE_EXTRA_CA_CERTS: a Node not built against the system's OpenSSL store (the host's, copied into
# Debian 12) trusts the root's CA bundle, which holds the host's extra certificates.
in_root() { chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
  CI="${CI:-}" "$@"; }

mount_all() {
  mount -t proc proc "$root/proc"; mounted+=("$root/proc")
  mount --rbind /sys "$root/sys"; mount --make-rslave "$root/sys"; mounted+=("$root/sys")
  mount --rbind /dev "$root/dev"; mount --make-rslave "$root/dev"; mounted+=("$root/dev")
  # Chromium and node's shared-memory datasets need a writable /dev/shm of their own size.
  mkdir -p "$root/tmp"; chmod 1777 "$root/tmp"
}

fresh_root() {
  [ "$fresh" = 0 ] && [ -f "$root/.csgnet-root" ] && [ "$(cat "$root/.csgnet-root")" = "$recipe" ] &&
    [ -z "$(find "$root/.csgnet-root" -mtime +"$max_age" -print)" ]
}

if fresh_root; then
  echo "test-in-debian: reusing the Debian $rel root in $root" >&2
else
  command -v debootstrap >/dev/null || { apt-get update -q; apt-get install -y -q debootstrap; }
  echo "test-in-debian: making a Debian $rel ($codename) root in $root from $mirror" >&2
  # A root still mounted from a killed run must be released before it is removed.
  for m in proc sys dev run/netns; do umount -l "$root/$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$root"
  mkdir -p "$cache"
  debootstrap --variant=minbase --include=ca-certificates "$codename" "$root" "$mirror"
  cat > "$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $codename-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -f "$root/etc/apt/sources.list"
  # The host's apt settings (e.g. a mirror whose Release files are old snapshots) apply in the root too.
  for f in /etc/apt/apt.conf.d/*; do
    case "$(basename "$f")" in docker-*|*autoremove*|20packagekit|50appstream) ;; *) cp "$f" "$root/etc/apt/apt.conf.d/" ;; esac
  done
  mounted_before=${#mounted[@]}
  mount_all
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
  in_root update-ca-certificates >/dev/null
  in_root apt-get update -q
  # Node.js >= 20: Debian 13's own nodejs (with its headers, so node-gyp never downloads them); on
  # Debian 12, whose nodejs is 18, the host's Node (with npm) is copied in, as such machines come with it.
  node_major=$(in_root apt-cache policy nodejs | awk '/Candidate:/ { split($2, v, /[.:]/); print (v[1] ~ /^[0-9]+$/ && v[1] > 2) ? v[1] : v[2] }')
  if [ "${node_major:-0}" -ge 20 ]; then
    in_root apt-get install -y -q --no-install-recommends nodejs npm libnode-dev
  else
    if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
      echo "test-in-debian: Debian $rel has no Node.js 20 and neither has the host" >&2; exit 1
    fi
    node_bin=$(readlink -f "$(command -v node)")
    npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
    headers=$(dirname "$(dirname "$node_bin")")/include/node
    [ -d "$headers" ] || headers=/usr/include/node
    echo "test-in-debian: copying the host's Node $(node --version) ($node_bin, npm in $npm_dir, headers in $headers)" >&2
    mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules" "$root/usr/local/include"
    cp "$node_bin" "$root/usr/local/bin/node"
    cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
    if [ -f "$headers/node.h" ]; then cp -a "$headers" "$root/usr/local/include/node"; fi
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
    if ! in_root node --version >/dev/null 2>&1; then
      echo "test-in-debian: the host's Node ($node_bin) does not run in Debian $rel (a shared library or a newer glibc missing): $(in_root node --version 2>&1 | head -1)" >&2
      exit 1
    fi
  fi
  # What .ci/run installs beside scripts/test.sh's own list: the ONNX checker test's python3-onnx.
  in_root apt-get install -y -q --no-install-recommends python3-onnx
  # The multi-host tests' network namespaces (ip netns, tc): minbase has no iproute2.
  in_root apt-get install -y -q --no-install-recommends iproute2
  [ -f /root/.npmrc ] && cp /root/.npmrc "$root/root/.npmrc"
  # The host's global npmrc (e.g. cafile for a registry behind a private CA) where the root's npm reads it.
  host_global=$(npm config get globalconfig 2>/dev/null || true)
  if [ -n "$host_global" ] && [ -f "$host_global" ]; then
    root_global=$(in_root npm config get globalconfig)
    mkdir -p "$root$(dirname "$root_global")"
    cp "$host_global" "$root$root_global"
  fi
  in_root node --version
  echo "$recipe" > "$root/.csgnet-root"
  for ((i = ${#mounted[@]} - 1; i >= mounted_before; i--)); do umount -l "${mounted[$i]}"; done
  mounted=("${mounted[@]:0:$mounted_before}")
fi

# Fresh copies of the host's network and npm settings, then of the project.
cp /etc/resolv.conf "$root/etc/resolv.conf"
[ -f /root/.npmrc ] && cp /root/.npmrc "$root/root/.npmrc"
rm -rf "$root/work"
mkdir -p "$root/work/csgnet"
git -C "$repo" ls-files -z --cached --others --exclude-standard | (cd "$repo" && xargs -0 cp --parents -t "$root/work/csgnet" 2>/dev/null || true)
if [ -d "$repo/../shared" ]; then cp -a "$repo/../shared" "$root/work/shared"; fi
mount_all

echo "test-in-debian: Debian $rel: $(in_root cat /etc/debian_version), node $(in_root node --version)" >&2
if [ "$shell" = 1 ]; then
  chroot "$root" /usr/bin/env HOME=/root TERM="${TERM:-dumb}" bash -c 'cd /work/csgnet && exec bash -i'
elif [ "$run_tests" = 1 ]; then
  in_root bash -c 'cd /work/csgnet && bash scripts/test.sh'
fi
