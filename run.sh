#!/usr/bin/env bash
# Starts MiniCa on its embedded defaults: http://localhost:5000 (see ca.config.json).
# First start: provisions a private SoftHSM2 token under data/hsm and runs the key ceremony.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "run.sh: the .NET 10 SDK is required (https://learn.microsoft.com/dotnet/core/install/linux-debian)." >&2
  exit 1
fi

if [ ! -f /usr/lib/softhsm/libsofthsm2.so ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "run.sh: installing softhsm2 (the embedded HSM)..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq softhsm2 >/dev/null
  else
    echo "run.sh: SoftHSM2 is missing; install it first: sudo apt-get install -y softhsm2" >&2
    exit 1
  fi
fi

dotnet build web/MiniCa.Web/MiniCa.Web.csproj -c Release -nologo -v quiet
exec dotnet web/MiniCa.Web/bin/Release/net10.0/MiniCa.Web.dll "$@"
