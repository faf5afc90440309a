#!/usr/bin/env bash
# Time to plan a pipeline with 50 includes (20 local, 15 project, 15 components with inputs)
# and 500 jobs: `gantry_ci::load_for` + `gantry_ci::plan` over an in-memory set of files
# (crates/gantry-ci/examples/plan_bench.rs), release build, median and p95 of ROUNDS rounds
# after a warm-up. The issue's target: under 200 ms (the example fails when the median is not).
# Usage: scripts/bench-ci-plan.sh [ROUNDS]   (default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p gantry-ci --example plan_bench
"$(realpath "${CARGO_TARGET_DIR:-target}")/release/examples/plan_bench" "${1:-100}"
