#!/usr/bin/env bash
# Sets up what the code-execution reward's sandbox (rewards/sandbox.ts) needs, then checks that it
# really isolates here. Safe to run again: installs only what is missing.
#
#   bubblewrap   bwrap >= 0.8: user, pid, network, ipc and uts namespaces and the read-only file layout
#   util-linux   prlimit (CPU, memory, process, file-size limits) and setpriv (run as nobody when root)
#   python3      /usr/bin/python3, the interpreter the sandbox runs Python programs with
#
# Exits non-zero with the reason when it cannot install them or the kernel refuses the namespaces.
set -euo pipefail

fail() {
  echo "sandbox-setup: $*" >&2
  exit 1
}

missing=()
command -v bwrap >/dev/null || missing+=(bubblewrap)
{ command -v prlimit && command -v setpriv; } >/dev/null || missing+=(util-linux)
[ -x /usr/bin/python3 ] || missing+=(python3)

if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null ||
    fail "missing ${missing[*]} and no apt-get here: install them with the system's package manager"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "missing ${missing[*]}: run this script as root (or install sudo)"
    sudo=(sudo)
  fi
  echo "sandbox-setup: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq || fail "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
    fail "apt-get install ${missing[*]} failed"
fi

version=$(bwrap --version | awk '{print $2}')
[ "$(printf '%s\n' 0.8.0 "$version" | sort -V | head -n1)" = 0.8.0 ] ||
  fail "bubblewrap $version is too old: the sandbox needs 0.8.0 or later (--disable-userns; Debian 12, Ubuntu 24.04)"

# The same namespaces, layout and identity as rewards/sandbox.ts; root drops to nobody as it does there.
as_nobody=()
[ "$(id -u)" -eq 0 ] && as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
system_dirs=()
for dir in /bin /sbin /lib /lib64 /lib32; do
  if [ -L "$dir" ]; then system_dirs+=(--symlink "$(readlink "$dir")" "$dir")
  elif [ -d "$dir" ]; then system_dirs+=(--ro-bind "$dir" "$dir"); fi
done
out=$("${as_nobody[@]}" bwrap --unshare-all --unshare-user --disable-userns --die-with-parent --as-pid-1 \
  --ro-bind /usr /usr "${system_dirs[@]}" --proc /proc --dev /dev --tmpfs /sandbox --chdir /sandbox \
  /usr/bin/prlimit --nproc=16 -- /usr/bin/python3 -I -c 'import os; print(os.getpid(), 6 * 7)' 2>&1) ||
  fail "bubblewrap cannot create its namespaces here: $out
  (unprivileged user namespaces must be allowed: sysctl kernel.unprivileged_userns_clone=1 on older
  Debian kernels, kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu 24.04+; in Docker, run
  the container with --security-opt seccomp=unconfined or --privileged)"
[ "$out" = "1 42" ] || fail "sandboxed python3 printed '$out', expected '1 42'"
echo "sandbox-setup: ok ($(bwrap --version), $(/usr/bin/python3 --version))"
