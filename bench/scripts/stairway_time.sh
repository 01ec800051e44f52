#!/bin/bash
# The stairway's time on the crates.io history, two checkouts side by side (BENCHMARKS.md, "The
# stairway on crates.io"). Usage: stairway_time.sh OLD_CHECKOUT NEW_CHECKOUT ROUNDS.
# Each checkout's cargo-migrate must be built (CARGO_TARGET_DIR=<checkout>-target cargo build -p
# migrate-cli, or set OLD_BIN / NEW_BIN). For each, makes a crate depending on that checkout,
# imports corpus/crates-io into it and builds it; runs `cargo migrate test` once to build its
# migrator; then times `cargo migrate test` ROUNDS times per checkout, interleaved, on one
# throwaway server (DATABASE_URL must name its maintenance database). Prints one line a run.
set -euo pipefail
OLD=$1; NEW=$2; ROUNDS=$3
: "${DATABASE_URL:?set DATABASE_URL to a server where databases may be created}"
DIR=${DIR:-/tmp/stairway-time}
OLD_BIN=${OLD_BIN:-$OLD-target/debug/cargo-migrate}
NEW_BIN=${NEW_BIN:-$NEW-target/debug/cargo-migrate}
CORPUS=$(cd "$(dirname "$0")/../.." && pwd)/corpus/crates-io/migrations
mkdir -p "$DIR"
for v in old new; do
  if [ "$v" = old ]; then SRC=$OLD; BIN=$OLD_BIN; else SRC=$NEW; BIN=$NEW_BIN; fi
  C=$DIR/$v
  rm -rf "$C"; mkdir -p "$C/src"
  cat > "$C/Cargo.toml" <<EOF
[package]
name = "stairway-$v"
version = "0.1.0"
edition = "2024"

[dependencies]
migrate-runtime = { path = "$SRC/migrate-runtime" }

[build-dependencies]
migrate-build = { path = "$SRC/build-support" }

[workspace]
EOF
  cp "$SRC/Cargo.lock" "$C/Cargo.lock"
  echo 'fn main() { migrate_build::compile(); }' > "$C/build.rs"
  echo 'static M: migrate_runtime::Chain = migrate_runtime::embed_migrations!(); fn main() { println!("{}", M.len()); }' > "$C/src/main.rs"
  (cd "$C" && "$BIN" migrate import --from diesel "$CORPUS" > /dev/null && CARGO_TARGET_DIR=$DIR/target-$v cargo build -q)
  (cd "$C" && CARGO_TARGET_DIR=$DIR/target-$v "$BIN" migrate test > /dev/null || true)
done
for round in $(seq "$ROUNDS"); do
  for v in old new; do
    if [ "$v" = old ]; then BIN=$OLD_BIN; else BIN=$NEW_BIN; fi
    start=$(date +%s.%N)
    (cd "$DIR/$v" && CARGO_TARGET_DIR=$DIR/target-$v "$BIN" migrate test > "$DIR/$v.out" || true)
    end=$(date +%s.%N)
    echo "$round $v $(echo "$end - $start" | bc) s, $(head -1 "$DIR/$v.out")"
  done
done
