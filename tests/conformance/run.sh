#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in package.json) against `healthplug serve`.
#
#   tests/conformance/run.sh [HEALTHPLUG_BIN]
#
# HEALTHPLUG_BIN defaults to target/debug/healthplug; the conformance fixture
# package is read from $HEALTHPLUG_FIXTURES (default
# target/wasm/packages/fixtures), both built by `cargo test --workspace`.
# Builds nothing. In a fresh temporary home: installs the conformance
# fixture, creates a user with a steps grant, serves that user without
# credentials on a free loopback port (`--local-user`: the suite sends no
# token), and runs every scenario that applies (README.md beside this file
# says which do not, and why) against the plugin's own endpoint (bare tool
# names, as the suite expects) and the basic ones against /mcp too. Exits
# non-zero if any check fails.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-$root/target/debug/healthplug}"
fixtures="${HEALTHPLUG_FIXTURES:-$root/target/wasm/packages/fixtures}"

die() { echo "conformance: $*" >&2; exit 1; }

[ -x "$bin" ] || die "no healthplug binary at $bin (build it: cargo build -p healthplug-host)"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
[ -f "$fixtures/conformance/healthplug.toml" ] ||
    die "no conformance fixture package in $fixtures/conformance (build it: cargo test -p healthplug-tests --test all --no-run)"
command -v node >/dev/null || die "node is not installed (the suite needs Node 20 or later)"
command -v npm >/dev/null || die "npm is not installed"

# The suite, from the lock file. Reinstalled when the lock file changed.
cd "$here"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed (is the npm registry reachable?)"
fi
suite="$here/node_modules/.bin/conformance"
[ -x "$suite" ] || die "npm ci did not install the conformance CLI at $suite"

work="$(mktemp -d "${TMPDIR:-/tmp}/healthplug-conformance.XXXXXX")"
home="$work/home"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

hp() { "$bin" --home "$home" "$@"; }

user=conformance-user
hp plugin add "$fixtures/conformance" --dev >/dev/null || die "installing the conformance fixture failed"
hp user add "$user" >/dev/null || die "creating the user failed"
hp consent grant "$user" conformance --types steps >/dev/null || die "granting steps failed"

# Port 0: the kernel picks a free port, and the log line names it.
# Started directly (not through `hp`) so that $! is the server itself.
"$bin" --home "$home" serve --local-user "$user" --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 </dev/null &
server_pid=$!
port=""
for _ in $(seq 1 100); do
    port="$(sed -n 's/.*listening addr=127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$work/serve.log" | head -n 1)"
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; die "healthplug serve exited at start"; }
    sleep 0.1
done
[ -n "$port" ] || { cat "$work/serve.log" >&2; die "healthplug serve did not say where it listens within 10 s"; }
base="http://127.0.0.1:$port"
ready=""
for _ in $(seq 1 100); do
    if node -e "fetch('$base/readyz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then
        ready=yes
        break
    fi
    sleep 0.1
done
[ -n "$ready" ] || { cat "$work/serve.log" >&2; die "$base/readyz did not answer 200 within 10 s"; }
echo "healthplug serve --local-user $user on $base"

# The scenarios that apply (see README.md). The suite finds its tools by
# bare name, so the tool scenarios run on the plugin's own endpoint.
plugin_scenarios=(
    server-initialize
    ping
    tools-list
    tools-call-simple-text
    tools-call-error
    json-schema-2020-12
    dns-rebinding-protection
)
aggregate_scenarios=(
    server-initialize
    ping
    tools-list
    dns-rebinding-protection
)

passed=0
failed=0
failures=()
run() { # run URL SCENARIO
    local url="$1" scenario="$2" out="$work/results/$(echo "$1" | tr -c 'a-z0-9' _)-$2"
    mkdir -p "$out"
    local log="$out/output.txt" rc=0
    "$suite" server --url "$url" --scenario "$scenario" --output-dir "$out" >"$log" 2>&1 || rc=$?
    # One checks.json per run: count its checks (a WARNING or INFO is not
    # a failure; a scenario with no SUCCESS at all is).
    local verdict
    verdict="$(node -e '
        const fs = require("fs"), path = require("path");
        const dir = process.argv[1];
        const sub = fs.readdirSync(dir).find(d => fs.existsSync(path.join(dir, d, "checks.json")));
        if (!sub) { console.log("0 0 no-checks.json"); process.exit(0); }
        const checks = JSON.parse(fs.readFileSync(path.join(dir, sub, "checks.json"), "utf8"));
        const ok = checks.filter(c => c.status === "SUCCESS").length;
        const bad = checks.filter(c => c.status === "FAILURE" || c.status === "ERROR");
        console.log(ok, bad.length, bad.map(c => c.id + ": " + (c.errorMessage || "")).join(" | "));
    ' "$out")"
    local ok bad detail
    read -r ok bad detail <<<"$verdict"
    local summary
    summary="$(grep -a -o 'Passed: [0-9]*/[0-9]*, [0-9]* failed' "$log" | tail -n 1 || true)"
    if [ "$rc" -eq 0 ] && [ "$bad" -eq 0 ] && [ "$ok" -gt 0 ]; then
        passed=$((passed + 1))
        printf '  pass  %-28s %-34s %s\n' "$scenario" "${url#"$base"}" "$summary"
    else
        failed=$((failed + 1))
        failures+=("$scenario on ${url#"$base"}")
        printf '  FAIL  %-28s %-34s %s (exit %s) %s\n' "$scenario" "${url#"$base"}" "${summary:-no summary}" "$rc" "$detail"
        sed 's/^/        /' "$log" | head -n 40
    fi
}

echo "MCP conformance suite $("$suite" --version) against healthplug"
for s in "${plugin_scenarios[@]}"; do run "$base/plugins/conformance/mcp" "$s"; done
for s in "${aggregate_scenarios[@]}"; do run "$base/mcp" "$s"; done

echo
echo "conformance: $passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
    printf '  failed: %s\n' "${failures[@]}" >&2
    echo "server log:" >&2
    tail -n 40 "$work/serve.log" >&2
    exit 1
fi
