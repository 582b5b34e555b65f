#!/usr/bin/env bash
# Self-test of the test bed: it passes what it promises to a scenario, and it
# is loud when anything goes wrong: each exit code of the contract in
# tests/vm/testbed is provoked once and checked, with its diagnosis line.
#
#   tests/vm/selftest.sh          (about a minute: five guest boots)
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
testbed=$here/testbed
probe=$here/selftest/probe.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/testbed-selftest.XXXXXX")
passed=0
failed=0

# check NAME EXPECTED_STATUS PATTERN -- COMMAND...: run COMMAND, which must
# exit EXPECTED_STATUS and print a line matching PATTERN (grep -E).
check() {
    local name=$1 want=$2 pattern=$3 out=$work/$passed-$failed.out rc
    shift 4
    echo "# $name: $*"
    "$@" >"$out" 2>&1
    rc=$?
    if [[ $rc == "$want" ]] && grep -qE "$pattern" "$out"; then
        echo "ok - $name (exit $rc)"
        passed=$((passed + 1))
        return 0
    fi
    echo "not ok - $name"
    echo "  expected: exit $want and a line matching /$pattern/"
    echo "  actual:   exit $rc; last lines:"
    tail -n 25 "$out" | sed 's/^/  | /'
    failed=$((failed + 1))
    return 1
}

# Fetch the kernel once, so that its download does not count against the
# short timeouts below.
"$testbed" --prepare || {
    echo "not ok - testbed --prepare failed (exit $?)"
    echo "0 passed, 1 failed"
    exit 1
}

cd "$here" || exit 1
arg="two words, 'quoted' \$dollar"
export VIRT_HOSTDEV_SELFTEST='value with spaces; $HOME stays literal'

results=$work/results
if check "a passing scenario gets its environment, cwd and arguments" 0 \
    '^probe: ok, exiting 0$' -- \
    "$testbed" --results "$results" "$probe" 0 "$VIRT_HOSTDEV_SELFTEST" "$here" "$arg"; then
    for f in console.log probe.out testbed-status; do
        if [[ -s $results/$f ]]; then
            echo "ok - results share holds $f"
            passed=$((passed + 1))
        else
            echo "not ok - results share lacks $f ($(ls "$results" | tr '\n' ' '))"
            failed=$((failed + 1))
        fi
    done
fi

check "a failing scenario fails the test bed with its own status" 1 \
    'scenario .*probe.sh .* exited 1 ' -- \
    "$testbed" "$probe" 1 "$VIRT_HOSTDEV_SELFTEST" "$here" "$arg"

check "a kernel panic exits 4 with a diagnosis" 4 \
    '^testbed: guest did not run the scenario: kernel panic' -- \
    "$testbed" --extra-cmdline 'rdinit=/nonexistent init=/nonexistent' true

check "a guest that stops inside the scenario exits 4" 4 \
    'scenario started but the guest stopped without its exit marker' -- \
    "$testbed" sh -c 'echo o >/proc/sysrq-trigger; sleep 60'

check "a scenario that hangs is killed at --timeout and exits 5" 5 \
    '^testbed: timeout: the guest did not finish within 20 s' -- \
    "$testbed" --timeout 20 sleep 600

check "QEMU refusing its arguments exits 4 with QEMU's message" 4 \
    '^testbed: QEMU failed .*no-such-device' -- \
    "$testbed" --devices '-device no-such-device' true

check "a missing QEMU exits 3 naming it" 3 \
    '^testbed: missing prerequisites: /nonexistent/qemu-system-x86_64' -- \
    env TESTBED_QEMU=/nonexistent/qemu-system-x86_64 "$testbed" true

check "a bad command line exits 2" 2 \
    '^testbed: --timeout wants a number' -- \
    "$testbed" --timeout soon true

if [[ $failed == 0 ]]; then
    rm -rf "$work"
else
    echo "# outputs kept in $work"
fi
echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
