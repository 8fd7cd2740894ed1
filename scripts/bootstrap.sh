#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine and builds it. Idempotent: quiet when
# everything is present, and says what it does otherwise. Starts no daemon (the local-cluster
# scripts and the tests start and stop their own, by PID). Runs as root in CI with no terminal.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

# A binary counts as present if it is on PATH or in the sbin folders, which a non-login PATH
# (CI, sudo -E, npm) may lack: dockerd lives in /usr/sbin.
have() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] || [ -x "/usr/bin/$1" ]
}

# --- Debian packages: binary -> package -------------------------------------------------------
missing=()
have etcd || missing+=(etcd-server)
have dockerd || missing+=(docker.io)
have busybox || missing+=(busybox-static)

if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and apt-get is not available: install them by hand"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "missing ${missing[*]}: run as root (or install sudo) to install them"
    sudo_cmd=(sudo -n)
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Package scripts must not start etcd or dockerd as system services (no PID would be recorded
  # and the fixed default ports would collide): policy-rc.d exit 101 forbids it. Added only for
  # the install when the machine has none, and removed again afterwards.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
    "${sudo_cmd[@]}" chmod 755 "$policy"
    added_policy=1
  fi
  cleanup_policy() { if [ "$added_policy" = 1 ]; then "${sudo_cmd[@]}" rm -f "$policy"; fi; }
  trap cleanup_policy EXIT
  say "installing ${missing[*]} (apt-get update first)"
  "${sudo_cmd[@]}" apt-get update -qq || die "apt-get update failed"
  "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
  cleanup_policy
  added_policy=0
  for bin in etcd dockerd busybox; do
    have "$bin" || die "$bin is still missing after installing ${missing[*]}"
  done
fi

# --- npm dependencies ---------------------------------------------------------------------------
command -v npm >/dev/null 2>&1 || die "npm is not installed (Node 20.19 or newer is required)"
if [ ! -d node_modules ] || [ ! -e node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
elif [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "package-lock.json changed: reinstalling npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- build --------------------------------------------------------------------------------------
# tsc -b is incremental and prints nothing when it succeeds.
npx --no-install tsc -b || die "the TypeScript build failed (npx tsc -b): see the errors above"
# fleetctl as one file with its V8 code cache (see scripts/bundle-fleetctl.ts: it starts in well
# under half the time). It takes about a second (esbuild, then one fleetctl run that fills the
# cache), so it runs every time rather than guessing whether it is stale.
node scripts/dist/bundle-fleetctl.js || die "bundling fleetctl failed (node scripts/dist/bundle-fleetctl.js): see the errors above"
