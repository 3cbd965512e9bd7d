#!/usr/bin/env bash
# Installs the test prerequisites, builds, runs the whole suite and ends with one line:
# "N passed, N failed, N skipped". Exit code 0 only when the build succeeds and nothing failed.
set -uo pipefail
cd "$(dirname "$0")"

# Debian packages the tests call: SoftHSM2 (the HSM), OpenSC (pkcs11-tool), GnuTLS (certtool), OpenSSL,
# Chromium (the portal's browser tests, driven by Playwright), Roboto (the portal's font, for screenshots), the
# ACME clients lego and certbot, pebble (its challtestsrv is the test DNS server; Pebble is the benchmark peer), and
# p11-kit (its server serves a SoftHSM2 token out of process, so an HSM cluster member can really be killed), and
# PostgreSQL (the tests start throw-away servers of their own for Database:Provider Postgres), and gcc with the C
# library's headers (the power-cut test compiles its write recorder, which it preloads into the CA process).
declare -A needs=(
  [softhsm2]=/usr/lib/softhsm/libsofthsm2.so
  [opensc]=/usr/bin/pkcs11-tool
  [gnutls-bin]=/usr/bin/certtool
  [openssl]=/usr/bin/openssl
  [chromium]=/usr/bin/chromium
  [fonts-roboto-unhinted]=/usr/share/fonts/truetype/roboto/unhinted/RobotoTTF/Roboto-Regular.ttf
  [lego]=/usr/bin/lego
  [certbot]=/usr/bin/certbot
  [pebble]=/usr/bin/pebble-challtestsrv
  [curl]=/usr/bin/curl
  [p11-kit]=/usr/bin/p11-kit
  [p11-kit-modules]=/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so
  [postgresql]=/usr/share/doc/postgresql/copyright
  [gcc]=/usr/bin/gcc
  [libc6-dev]=/usr/include/dlfcn.h
)
missing=()
for package in "${!needs[@]}"; do
  [ -e "${needs[$package]}" ] || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "test.sh: installing ${missing[*]}..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || {
      echo "test.sh: apt-get install ${missing[*]} failed" >&2; exit 1; }
  else
    echo "test.sh: missing test prerequisites; install them first: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is required (https://learn.microsoft.com/dotnet/core/install/linux-debian)." >&2
  exit 1
fi

results=TestResults
rm -rf "$results"
dotnet build MiniCa.sln -c Release -nologo -v quiet || { echo "test.sh: build failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

export CI="${CI:-true}"
dotnet test MiniCa.sln -c Release --no-build -nologo --results-directory "$results" --logger "trx" --logger "console;verbosity=normal"
status=$?

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  value() { local v; v=$(echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"); echo "${v:-0}"; }
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  skipped=$((skipped + $(value notExecuted)))
done
if [ "$files" -eq 0 ] || { [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; }; then
  # The runner itself failed (crash, no results): never report green.
  failed=$((failed + 1))
fi

if [ "$failed" -gt 0 ]; then
  # CI keeps only the end of the log: name every failed test and its message here, just before the count.
  echo "---- failed tests ----"
  for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    # The assembly too: MiniCa.Web.Postgres.Tests runs the web tests' names a second time.
    assembly=$(grep -o 'storage="[^"]*"' "$trx" | head -1 | sed 's/.*\/\([^/]*\)\.dll"$/\1/')
    awk -v assembly="$assembly" '
      /<UnitTestResult / {
        failing = ($0 ~ /outcome="Failed"/)
        if (failing) { match($0, /testName="[^"]*"/); print "FAILED [" assembly "] " substr($0, RSTART + 10, RLENGTH - 11); lines = 0 }
      }
      failing && /<(Message|StackTrace)>/ { quoting = 1 }
      failing && quoting && lines < 40 { print "  " $0; lines++ }
      failing && /<\/(Message|StackTrace)>/ { quoting = 0 }
      /<\/UnitTestResult>/ { failing = 0 }
    ' "$trx" | sed -e 's/&quot;/"/g' -e 's/&apos;/'"'"'/g' -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&amp;/\&/g'
  done
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
