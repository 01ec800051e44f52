"""Paired incremental release builds, us and diesel, alternating within each round
(BENCHMARKS.md, "The extra checks and the seal at build time").

Usage: python3 paired_incr.py ROUNDS FIRST, in a copy of the shared harness (BENCH=/tmp/bench)
that has generated N migrations and built both peers (`bench.py run ... --what incr`), FIRST
being N+1 plus the migrations its runs already added.

Each round adds migration N+1+k to both crates of the shared harness (as its incr snippet
does), then builds us and diesel, in alternating order from round to round; the ratio of a
round compares two builds made seconds apart."""
import os, subprocess, sys, time, statistics
from pathlib import Path
B = Path(os.environ.get("BENCH", "/tmp/bench"))
rounds = int(sys.argv[1]); first = int(sys.argv[2])
def build(peer):
    env = dict(os.environ, CARGO_TARGET_DIR=f"/tmp/bench-mig/target/{peer}")
    t = time.perf_counter()
    subprocess.run(["cargo", "build", "--release", "--locked", "--offline", "--quiet", "--manifest-path",
                    f"peers/{peer}/Cargo.toml"], cwd=B, env=env, check=True)
    return time.perf_counter() - t
def add(peer, v):
    if peer == "us":
        for f in (B / "work/us-extra" / str(v)).iterdir():
            (B / "peers/us/migrations" / f.name).write_text(f.read_text())
    else:
        d = B / "peers/diesel/migrations" / f"{v:06d}_t_{v}"
        d.mkdir()
        (d / "up.sql").write_text(f"CREATE TABLE t_{v} (id bigint primary key, v text);\n")
        (d / "down.sql").write_text(f"DROP TABLE t_{v};\n")
for p in ("us", "diesel"):
    build(p)
us, diesel, ratios = [], [], []
for k in range(rounds):
    v = first + k
    order = ("us", "diesel") if k % 2 == 0 else ("diesel", "us")
    times = {}
    for p in order:
        add(p, v)
        times[p] = build(p)
    us.append(times["us"]); diesel.append(times["diesel"]); ratios.append(times["us"] / times["diesel"])
    print(f"round {k}: us {times['us']:.3f} s, diesel {times['diesel']:.3f} s, ratio {ratios[-1]:.3f}", flush=True)
print(f"median us {statistics.median(us):.3f} s, diesel {statistics.median(diesel):.3f} s, "
      f"median paired ratio {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})")
