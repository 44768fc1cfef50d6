#!/usr/bin/env bash
# Fleet's one test command: runs every test project in Fleet.sln and ends with one plain line
#   N passed, N failed
# summed from the TRX files (one per test project). Exits non-zero when dotnet test failed, a test
# failed, or no test passed. Extra arguments go to `dotnet test` (.ci/run passes --no-build).
# The benchmark runner (tests/Fleet.Agent.Benchmarks) is not a test project and is not run here.
set -euo pipefail
cd "$(dirname "$0")"

results="$PWD/TestResults/fleet"
rm -rf "$results"
mkdir -p "$results"
log="$results/dotnet-test.log"

# The TRX logger's default file name is used on purpose: with a fixed LogFileName every test project
# of the solution writes the same file and the last one overwrites the others; the default name gets
# a [1], [2] suffix instead. --blame-hang-timeout turns a hung test into a failure, not a CI time-out.
set +e
dotnet test Fleet.sln -c Release \
    --logger trx \
    --results-directory "$results" \
    --blame-hang-timeout 10m --blame-hang-dump-type none \
    "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# Reads one attribute of the <Counters .../> element of a TRX file (0 when absent).
counter() {
    local value
    value=$(grep -o '<Counters [^>]*>' "$2" | head -n 1 | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" || true)
    echo "${value:-0}"
}

passed=0
failed=0
files=0
shopt -s nullglob
for trx in "$results"/*.trx; do
    files=$((files + 1))
    passed=$((passed + $(counter passed "$trx")))
    for kind in failed error timeout aborted; do
        failed=$((failed + $(counter "$kind" "$trx")))
    done
done

problem=""
# One "Passed!/Failed!  - Failed: ..." summary per test project that ran; fewer TRX files than
# summaries would mean results went missing and the count above is short.
summaries=$(grep -cE '^(Passed|Failed|Skipped)! +- Failed:' "$log" || true)
if ((files < summaries)); then
    problem="only $files TRX file(s) for $summaries test project(s): results are missing"
elif ((failed > 0)); then
    problem="$failed test(s) failed"
elif ((status != 0)); then
    problem="dotnet test exited with $status"
elif ((passed == 0)); then
    problem="no test ran"
fi

if [[ -n "$problem" ]]; then
    echo "test.sh: $problem (log and TRX files: $results)" >&2
fi
# The closing line, last on purpose: CI reads it.
echo "$passed passed, $failed failed"
if [[ -n "$problem" ]]; then
    exit 1
fi
