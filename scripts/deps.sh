#!/usr/bin/env bash
# Installs the Debian 12 packages rewardkit needs to build and test.
# As root it runs apt-get; otherwise it prints the exact command to run.
# Usage: scripts/deps.sh [build|test|fuzz|bench]   (default: test)
set -euo pipefail
what=${1:-test}
pkgs=(build-essential cmake pkg-config libjansson-dev libutf8proc-dev libre2-dev
      libgmp-dev libmpfr-dev libmicrohttpd-dev libcurl4-openssl-dev)
case "$what" in
  build) ;;
  test)  pkgs+=(python3 python3-venv nginx-light) ;;
  fuzz)  pkgs+=(clang libclang-rt-14-dev) ;;
  bench) pkgs+=(python3 wrk bc python3-fastapi python3-uvicorn python3-nltk
               python3-levenshtein python3-numpy python3-scipy python3-sympy
               python3-aiohttp nginx-light) ;;
  *) echo "deps.sh: unknown set '$what' (build, test, fuzz or bench)" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "rewardkit needs these Debian packages; run as root:" >&2
  echo "  apt-get update && $cmd" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$cmd
