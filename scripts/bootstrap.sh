#!/usr/bin/env bash
# Installs the system libraries Sluice links against (libyajl, libcurl) when they are missing.
# Safe to run repeatedly: it does nothing when pkg-config already finds both.
set -euo pipefail

if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists yajl libcurl; then
    exit 0
fi

packages=(pkg-config libyajl-dev libcurl4-openssl-dev)
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        echo "bootstrap: need root to install ${packages[*]} (run as root or install them yourself)" >&2
        exit 1
    fi
fi
echo "bootstrap: installing ${packages[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
