#!/usr/bin/env bash
# What the fault-injection suite in `mvn -B verify` (fault-tests, docs/RELIABILITY.md) needs for
# all of its fault types: nft for the network cuts, and FUSE with Debian's fusepy for faultfs
# (power loss, disk full, fsync stalls). Installs what is missing from the machine's own apt
# sources. Without root it only says which fault types the suite will skip; the suite itself skips
# them with a printed reason when a tool is absent.
set -euo pipefail

missing=()
command -v nft >/dev/null || missing+=(nftables)
command -v fusermount3 >/dev/null || missing+=(fuse3)
/usr/bin/python3 -c 'import fusepy' 2>/dev/null || missing+=(python3-fusepy)
if ((${#missing[@]} == 0)); then
  echo "fault-suite-prereqs: nft, fuse3 and python3-fusepy are installed"
  exit 0
fi
if [[ $EUID -ne 0 ]]; then
  echo "fault-suite-prereqs: not root, so ${missing[*]} stay missing: the suite skips the fault types" \
    "that need them (network cuts need root and nft; faultfs needs root, fuse3 and python3-fusepy)"
  exit 0
fi
echo "fault-suite-prereqs: installing ${missing[*]}"
timeout 600 apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q "${missing[@]}" >/dev/null
