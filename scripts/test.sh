#!/usr/bin/env bash
# The full test suite: formatting, lints, docs, every test, the local issuer
# driven by the real AWS CLI and boto3 (installed into target/ with pip), and
# its hosted sign-in in headless Chromium (Debian's chromium and
# chromium-driver, installed with apt-get when missing).
# This is the README's test command; .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --locked --all-targets --all-features -- -D warnings

# Every feature users can enable; `bench` (criterion) only builds the
# benchmarks and stays out of the test run.
features=axum,issuer,proxy,redis,cli,internals

# Each feature alone, and none: the build a user gets. `--lib` and `--bin`
# leave out dev-dependencies (and so the self dev-dependency that turns
# features on for tests and examples), so a feature that only builds, or only
# builds without warnings, together with another fails here.
for feature in "" axum issuer proxy redis cli internals; do
    echo "== cargo clippy --lib --no-default-features --features '$feature'"
    cargo clippy --locked --lib --no-default-features --features "$feature" -- -D warnings
done
echo "== cargo clippy --bin scopegate --no-default-features --features cli"
cargo clippy --locked --bin scopegate --no-default-features --features cli -- -D warnings

echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --features "$features"

# The proxy's /metrics output is checked by Prometheus' own promtool; the
# test fails (never skips) when it is missing and this is set.
if ! command -v promtool >/dev/null; then
    echo "== installing promtool (Debian package prometheus)"
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo -n"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
        || { echo "promtool is missing and could not be installed (apt-get install prometheus)" >&2; exit 1; }
fi
export SCOPEGATE_REQUIRE_PROMTOOL=1

# The shared-state tests run a real redis-server on a free loopback port;
# they fail (never skip) when it is missing and this is set.
if ! command -v redis-server >/dev/null; then
    echo "== installing redis-server (Debian package redis-server)"
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo -n"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null \
        || { echo "redis-server is missing and could not be installed (apt-get install redis-server)" >&2; exit 1; }
fi
export SCOPEGATE_REQUIRE_REDIS=1

echo "== cargo test"
cargo test --locked --features "$features"

echo "== the README's dependency block and quick start in a fresh crate"
scripts/readme-check.sh

echo "== AWS CLI and boto3 against scopegate issuer"
scripts/aws-interop.sh

echo "== headless Chromium signs in at scopegate issuer's hosted login"
scripts/browser-check.sh
