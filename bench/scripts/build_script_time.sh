#!/bin/bash
# The build script's time, side by side (BENCHMARKS.md, "The extra checks and the seal at build
# time"). In $DIR: crates old/, new/ and sealed/ whose build.rs is `migrate_build::compile()`
# over the same migrations folder (old/ depending on an older build-support, sealed/ holding
# migrations/seal.lock), each built once with `cargo build --release` into $DIR/target.
# Runs each build-script binary directly, interleaved, $1 rounds, and prints one time a line.
# "sealed-clean" deletes the sums a build keeps first (a clean build); "sealed" reuses them.
set -euo pipefail
DIR=${DIR:-/tmp/bscost}
cd "$DIR"
for v in old new sealed; do
  eval "BIN_$v=$(ls -t target/release/build/bscost-$v-*/build-script-build | head -1)"
done
for _ in $(seq 1 "$1"); do
  for v in old new sealed sealed-clean; do
    case $v in
      sealed-clean) b=$BIN_sealed; d=sealed; rm -f "$DIR/out-sealed/migrate/sums-migrations" ;;
      *) b=BIN_$v; b=${!b}; d=$v ;;
    esac
    mkdir -p "$DIR/out-$d"
    s=$(date +%s.%N)
    CARGO_MANIFEST_DIR="$DIR/$d" OUT_DIR="$DIR/out-$d" "$b" >/dev/null
    e=$(date +%s.%N)
    echo "$v $(echo "$e - $s" | bc)"
  done
done
