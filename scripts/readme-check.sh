#!/usr/bin/env bash
# The newcomer's path: a fresh crate with the README's dependency block
# (scopegate's `path` pointed at this checkout) and the README's quick start
# as its main.rs must build. Offline, with this checkout's Cargo.lock, so the
# versions are the ones the suite tests; the target directory is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
crate=$root/target/readme-quickstart
rm -rf "$crate"
mkdir -p "$crate/src"

# The fenced block that follows the line with this marker.
block() {
    awk -v marker="$1" '
        index($0, marker) { found = 1; next }
        found && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }
    ' README.md
}

deps=$(block "<!-- readme-check: dependencies")
main=$(block "<!-- readme-check: quick start -->")
if [ -z "$deps" ] || [ -z "$main" ]; then
    echo "README.md: the readme-check markers or their blocks are missing" >&2
    exit 1
fi
{
    printf '[package]\nname = "readme-quickstart"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n'
    printf '%s\n' "$deps" | sed -E "s|^(scopegate = \{ *)path = \"[^\"]*\"|\1path = \"$root\"|"
    printf '\n[workspace]\n'
} >"$crate/Cargo.toml"
grep -q "path = \"$root\"" "$crate/Cargo.toml" || {
    echo "README.md: the dependency block has no scopegate path dependency" >&2
    exit 1
}
printf '%s\n' "$main" >"$crate/src/main.rs"
cp Cargo.lock "$crate/Cargo.lock"
# Download what the scratch crate needs beyond the suite's build (nothing,
# usually), then build it offline: against this checkout and the cache.
cargo fetch --offline --manifest-path "$crate/Cargo.toml" >/dev/null 2>&1 ||
    cargo fetch --manifest-path "$crate/Cargo.toml" >/dev/null
CARGO_TARGET_DIR=$target_dir cargo check --offline --manifest-path "$crate/Cargo.toml"
