#!/usr/bin/env bash
# The full test suite: formatting, lints, docs, every test, and the local
# issuer driven by the real AWS CLI and boto3 (installed into target/ with pip).
# This is the README's test command; .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --locked --all-targets --all-features -- -D warnings

# Every feature users can enable; `bench` (criterion) only builds the
# benchmarks and stays out of the test run.
features=axum,issuer,proxy,cli,internals

# Each feature alone, and none: the build a user gets. `cargo check --lib`
# and `--bin` leave out dev-dependencies (and so the self dev-dependency that
# turns features on for tests and examples), so a feature that only builds
# together with another fails here.
for feature in "" axum issuer proxy cli internals; do
    echo "== cargo check --lib --no-default-features --features '$feature'"
    cargo check --locked --lib --no-default-features --features "$feature"
done
echo "== cargo check --bin scopegate --no-default-features --features cli"
cargo check --locked --bin scopegate --no-default-features --features cli

echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --features "$features"

echo "== cargo test"
cargo test --locked --features "$features"

echo "== the README's dependency block and quick start in a fresh crate"
scripts/readme-check.sh

echo "== AWS CLI and boto3 against scopegate issuer"
scripts/aws-interop.sh
