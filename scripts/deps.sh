#!/usr/bin/env bash
# Install the Debian packages shoal's build and tests need. Idempotent and
# quiet: packages already installed are not touched, and `apt-get update`
# runs only when something is missing.
#
#   docker-registry  registry for integration tests (/usr/bin/docker-registry)
#   busybox-static   /bin/busybox for the test images
#   iproute2         ip: netns, veth, vxlan inspection in tests
#   nftables         nft: load-balancing rules, inspected by tests
#   libseccomp-dev   libcontainer's seccomp (cgo, -tags seccomp)
#   pkg-config gcc libc6-dev   cgo
#   util-linux       nsenter, mount
#   curl             make run's /_ping wait
set -euo pipefail

packages=(docker-registry busybox-static iproute2 nftables libseccomp-dev pkg-config gcc libc6-dev util-linux curl ca-certificates)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing+=("$p")
	fi
done

if ((${#missing[@]} > 0)); then
	echo "deps: installing ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: must run as root to install packages" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Not from Debian: the stock docker CLI the integration tests drive.
if [ ! -x /usr/local/bin/docker ]; then
	echo "deps: /usr/local/bin/docker (stock docker CLI 28.x) is missing; integration tests need it" >&2
	exit 1
fi
