#!/bin/bash
# The stairway's time on the crates.io history, two checkouts side by side (BENCHMARKS.md, "The
# stairway on crates.io"). Usage: stairway_time.sh OLD_CHECKOUT NEW_CHECKOUT ROUNDS.
# Each checkout's cargo-migrate must be built (CARGO_TARGET_DIR=<checkout>-target cargo build -p
# migrate-cli, or set OLD_BIN / NEW_BIN). For each, makes a crate depending on that checkout,
# imports corpus/crates-io into it and builds it; runs `cargo migrate test` once to build its
# migrator; then times `cargo migrate test` ROUNDS times per checkout, interleaved, on one
# throwaway server (DATABASE_URL must name its maintenance database). Prints one line a run.
# SYNTHETIC=N replaces crates.io by N generated migrations that all revert cleanly (half create a
# table with an identity key and a comment, half add a column, an index, a CHECK and a view to
# the table before), so both checkouts do the same work: no failure, no rebuild.
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
  if [ -n "${SYNTHETIC:-}" ]; then
    python3 - "$C/migrations" "$SYNTHETIC" <<'PY'
import os, sys
mig, n = sys.argv[1], int(sys.argv[2])
os.makedirs(mig, exist_ok=True)
prev = None
for i in range(n):
    rev = "%012x" % (0xB00000000000 + i)
    day = i // 96
    name = "2024%02d%02d_%02d%02d" % (1 + day // 28, 1 + day % 28, (i % 96) // 4, (i % 4) * 15)
    if i % 2 == 0:
        slug = f"add_table_{i}_records"
        up = f'op.execute("CREATE TABLE t_{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text NOT NULL DEFAULT \'\'); COMMENT ON TABLE t_{i} IS \'records of kind {i}\'");'
        down = f'op.execute("DROP TABLE t_{i}");'
    else:
        t = f"t_{i - 1}"
        slug = f"add_note_to_table_{i - 1}"
        up = f'op.execute("ALTER TABLE {t} ADD COLUMN note text; CREATE INDEX {t}_v ON {t} (v); ALTER TABLE {t} ADD CONSTRAINT {t}_v_short CHECK (length(v) < 100); CREATE VIEW {t}_notes AS SELECT id, note FROM {t}");'
        down = f'op.execute("DROP VIEW {t}_notes; ALTER TABLE {t} DROP CONSTRAINT {t}_v_short; DROP INDEX {t}_v; ALTER TABLE {t} DROP COLUMN note");'
    parent = "None" if prev is None else f'"{prev}"'
    allow = ', allow(blocking_index = "a benchmark", constraint_without_not_valid = "a benchmark")' if i % 2 else ""
    open(os.path.join(mig, f"{name}_{rev}_{slug}.rs"), "w").write(
        f"/// Records of kind {i} get a place of their own.\n"
        f'#[migration(rev = "{rev}", down_revision = {parent}{allow})]\nmod {slug} {{\n'
        f"    use migrate_runtime::prelude::*;\n\n    pub fn upgrade(op: &mut Op) {{\n        {up}\n    }}\n\n"
        f"    pub fn downgrade(op: &mut Op) {{\n        {down}\n    }}\n}}\n")
    prev = rev
PY
    (cd "$C" && CARGO_TARGET_DIR=$DIR/target-$v cargo build -q)
  else
    (cd "$C" && "$BIN" migrate import --from diesel "$CORPUS" > /dev/null && CARGO_TARGET_DIR=$DIR/target-$v cargo build -q)
  fi
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
