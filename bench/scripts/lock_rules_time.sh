#!/bin/bash
# The build script's time with and without the lock rules, side by side (BENCHMARKS.md, "The
# lock rules at build time"). Usage: lock_rules_time.sh OLD_CHECKOUT NEW_CHECKOUT ROUNDS.
# Makes $DIR/old and $DIR/new, two crates whose build.rs is `migrate_build::compile()` over the
# same 1,000 migrations (half `op.create_table(…)` with literal arguments, half
# `op.execute("ALTER TABLE … ADD COLUMN …; CREATE INDEX CONCURRENTLY …")`), each depending on
# the build-support of one checkout; builds them with `cargo build --release`, then runs each
# build-script binary directly, interleaved, and prints one time a line.
set -euo pipefail
OLD=$1; NEW=$2; ROUNDS=$3
DIR=${DIR:-/tmp/lock-rules-time}
mkdir -p "$DIR"
python3 - "$DIR" "$OLD" "$NEW" <<'PY'
import os, sys
base, old, new = sys.argv[1:4]
for v, src in (("old", old), ("new", new)):
    d = os.path.join(base, v)
    mig = os.path.join(d, "migrations")
    os.makedirs(os.path.join(d, "src"), exist_ok=True)
    os.makedirs(mig, exist_ok=True)
    open(os.path.join(d, "Cargo.toml"), "w").write(
        f'[package]\nname = "lock-rules-{v}"\nversion = "0.1.0"\nedition = "2024"\n\n'
        f'[build-dependencies]\nmigrate-build = {{ path = "{src}/build-support" }}\n\n[workspace]\n')
    open(os.path.join(d, "build.rs"), "w").write("fn main() { migrate_build::compile(); }\n")
    open(os.path.join(d, "src/lib.rs"), "w").write("")
    prev = None
    for i in range(1000):
        rev = "%012x" % (0xA00000000000 + i)
        day = i // 96
        name = "2024%02d%02d_%02d%02d" % (1 + day // 28, 1 + day % 28, (i % 96) // 4, (i % 4) * 15)
        if i % 2 == 0:
            slug = f"add_table_{i}_records"
            up = f'        op.create_table("t_{i}", |t| {{\n            t.column("id", Type::BigInt).identity().primary_key();\n            t.column("v", Type::Text);\n        }});'
            down = f'        op.drop_table("t_{i}");'
        else:
            slug = f"add_note_to_table_{i - 1}"
            up = f'        op.execute("ALTER TABLE t_{i - 1} ADD COLUMN note text; CREATE INDEX CONCURRENTLY t_{i - 1}_v ON t_{i - 1} (v)");'
            down = f'        op.execute("DROP INDEX CONCURRENTLY t_{i - 1}_v; ALTER TABLE t_{i - 1} DROP COLUMN note");'
        parent = "None" if prev is None else f'"{prev}"'
        open(os.path.join(mig, f"{name}_{rev}_{slug}.rs"), "w").write(
            f"/// Records of kind {i} get a place of their own.\n"
            f'#[migration(rev = "{rev}", down_revision = {parent})]\nmod {slug} {{\n'
            f"    use migrate_runtime::prelude::*;\n\n    pub fn upgrade(op: &mut Op) {{\n{up}\n    }}\n\n"
            f"    pub fn downgrade(op: &mut Op) {{\n{down}\n    }}\n}}\n")
        prev = rev
PY
for v in old new; do
  (cd "$DIR/$v" && CARGO_TARGET_DIR="$DIR/target" cargo build --release --quiet)
  eval "BIN_$v=$(ls -t "$DIR"/target/release/build/lock-rules-$v-*/build-script-build | head -1)"
done
for _ in $(seq 1 "$ROUNDS"); do
  for v in old new; do
    b=BIN_$v; mkdir -p "$DIR/out-$v"
    s=$(date +%s.%N)
    CARGO_MANIFEST_DIR="$DIR/$v" OUT_DIR="$DIR/out-$v" "${!b}" >/dev/null
    echo "$v $(echo "$(date +%s.%N) - $s" | bc)"
  done
done
