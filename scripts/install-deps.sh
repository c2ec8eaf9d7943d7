#!/usr/bin/env bash
# Installs the Debian packages that building, testing and the demo need: memcached, Debian's
# libmemcached (the reference the tests compare against), ProFTPD for the end-to-end tests,
# and the C toolchain. Skips apt entirely when everything is present. Needs root.
set -euo pipefail

packages=(
    build-essential pkg-config autoconf
    memcached libmemcached-dev libmemcached-tools libsasl2-dev sasl2-bin
    proftpd-core proftpd-mod-crypto
    php8.2-cli php8.2-memcached python3-pylibmc
    python3 valgrind procps iproute2
)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deps: all packages present"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
