#!/usr/bin/env bash
# The hostdev manager killed at random moments: nodedev-detach of 01:01.0
# (which holds its group peer 01:02.0 on pci-stub) gets SIGKILL after a
# random delay (from its start, from its journal's first write, or from
# its commit; see below), then `recover` runs.  Every round must end in one
# of two consistent states, never anything between:
#   (a) rolled back or never started: both e1000s on e1000, no registry
#       entries, no driver_override, no /dev/vfio node for the group;
#   (b) done: 01:01.0 on vfio-pci (assigned), 01:02.0 on pci-stub (held),
#       both in the registry for manual;
# and never a journal left after recover.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

vh=${VIRT_HOSTDEV_BUILD_DIR:?the build directory}/tools/virt-hostdev
state=/run/virt-hostdev
nic=0000:01:01.0
peer=0000:01:02.0
group=$(tb_group_of $nic)
rounds=${TESTBED_KILL_ROUNDS:-20}
seed=${TESTBED_KILL_SEED:-$((10#${EPOCHREALTIME#*.} % 32768))}
RANDOM=$seed
export VIRT_HOSTDEV_TIMEOUT_MS=10000

override() { cat "/sys/bus/pci/devices/$1/driver_override"; }
overrides() { echo "$(override $nic) $(override $peer)"; }

# The registry, one device a line: address role owner driver original group.
registry() {
    /usr/bin/python3 - "$state/registry.json" <<'EOF'
import json, os, sys
path = sys.argv[1]
if os.path.exists(path):
    with open(path) as f:
        reg = json.load(f)
    for d in sorted(reg["devices"], key=lambda d: d["address"]):
        print(d["address"], d["role"], d["owner"], d["driver"],
              d["original_driver"], d["group"])
EOF
}

now_us() { echo "${EPOCHREALTIME/./}"; }

# running PID: the process exists and is no zombie (builtins only).
running() {
    local st=Z
    read -r _ _ st _ 2>/dev/null </proc/$1/stat || return 1
    [[ $st != Z ]]
}

# A sleep without a fork (an exec costs ~30 ms under TCG): read from a
# FIFO nobody writes to, with a timeout.
pause_fifo=/run/hostdev-kill-pause
rm -f "$pause_fifo"
mkfifo "$pause_fifo"
exec 9<>"$pause_fifo"
pause_ms() { read -rt "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))" -u 9 || true; }

work=$TESTBED_RESULTS/hostdev-kill
mkdir -p "$work"

state_a_registry=""
state_b_registry=$(printf '%s\n' \
    "$nic assigned manual vfio-pci e1000 $group" \
    "$peer held manual pci-stub e1000 $group")

# Everything a failure needs, to stderr.
dump() {
    {
        echo "---- round $round: kill ${delay} ms after the $kind (seed $seed; detach ${dur} ms, journal window $((j_last - j_first)) ms)"
        echo "detach: exit $status"; sed 's/^/  /' "$work/detach.out" 2>/dev/null || true
        echo "journal before recover:"; sed 's/^/  /' "$work/journal.before" 2>/dev/null || echo "  (none)"
        echo "recover:"; sed 's/^/  /' <<<"${rec_out:-}"
        echo "drivers of $nic $peer: $(tb_drivers_of " " $nic $peer)"
        echo "driver_override of $nic $peer: $(overrides)"
        echo "registry:"; registry 2>&1 | sed 's/^/  /' || true
        echo "state dir:"; ls -la "$state" 2>&1 | sed 's/^/  /'
        ls -l /dev/vfio 2>&1 | sed 's/^/  \/dev\/vfio: /'
    } >&2
}
fail() { dump; tb_fail "$@"; }

tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers of 01:01.0 and 01:02.0 at boot"

# A first detach loads vfio-pci and pci-stub.  Then time a few detaches,
# started the way the rounds start them (in the background, from here),
# watching for the journal: the kills that matter most land while it
# exists (from the first step's intent to the commit).
"$vh" nodedev-detach $nic >/dev/null
"$vh" nodedev-reattach $nic >/dev/null
dur=0 j_first=-1 j_last=-1
for i in 1 2 3; do
    t0=${EPOCHREALTIME/./}
    "$vh" nodedev-detach $nic >/dev/null &
    pid=$!
    j0=-1 j1=-1
    while running $pid; do
        if [[ -e $state/journal.json ]]; then
            t=$(((${EPOCHREALTIME/./} - t0) / 1000))
            ((j0 >= 0)) || j0=$t
            j1=$t
        fi
    done
    wait $pid
    ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
    echo "timing detach $i: ${ms} ms, journal seen from ${j0} to ${j1} ms"
    if ((ms > dur)); then dur=$ms; fi
    if ((j0 >= 0 && j1 - j0 > j_last - j_first)); then j_first=$j0 j_last=$j1; fi
    "$vh" nodedev-reattach $nic >/dev/null
done
tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers after the timing runs"
# Three kinds of kill, chosen at random for each round:
#  - "start" (2 in 8): after a random delay in 0 to 5/4 of a detach,
#    counted from the fork: start-up, lock, scan, steps, commit, exit;
#  - "journal" (5 in 8): wait (polling, builtins only) until the journal
#    appears, then a random delay in 0 to 5/4 of the longest journal window
#    seen: the moments where a kill leaves work for recover.  Timings under
#    TCG on a shared host vary several-fold from run to run, so anchoring
#    on the journal hits the steps far more often than a fixed offset;
#  - "commit" (1 in 8): wait until the journal says every step ran, then
#    0-2 ms: the registry's commit and the exit.  The commit itself lasts
#    about a millisecond; by the time the poll sees it and the signal
#    lands, the journal is usually gone already (the kill then hits the
#    exit).  The commit is covered exactly by hostdev.sh's fault point
#    detach:commit; here it is a chance, not a promise.
span=$((dur * 5 / 4))
jspan=$(((j_last - j_first) * 5 / 4))
((j_first >= 0 && jspan > 0)) || tb_fail "the journal was never seen during the timing runs"
echo "a detach takes up to ${dur} ms, its journal lives up to $((j_last - j_first)) ms;" \
    "kills at random: 0-${span} ms after the start (2 in 8), 0-${jspan} ms after" \
    "the journal appears (5 in 8), 0-2 ms after all steps ran (1 in 8); seed $seed"

n_tmp=0 n_a=0 n_b=0 n_mid=0 n_killed=0 n_finished=0 n_rolled=0 n_completed=0 n_nothing=0
status=0 delay=0 rec_out="" kind=- at=-
declare -A hit=()
t_start=$(now_us)
for ((round = 1; round <= rounds; round++)); do
    rm -f "$work/detach.out" "$work/journal.before"
    rec_out=""
    tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers at the start of round $round"

    case $((RANDOM % 8)) in
    0 | 1) kind=start delay=$((RANDOM % (span + 1))) ;;
    2) kind=commit delay=$((RANDOM % 3)) ;;
    *) kind=journal delay=$((RANDOM % (jspan + 1))) ;;
    esac
    "$vh" nodedev-detach $nic >"$work/detach.out" 2>&1 &
    pid=$!
    if [[ $kind == journal ]]; then
        while [[ ! -e $state/journal.json ]] && running $pid; do :; done
    elif [[ $kind == commit ]]; then
        # Until the journal says every step ran (next = 2 steps): the
        # commit of the registry is under way.
        while running $pid; do
            j=""
            read -r -d "" j 2>/dev/null <"$state/journal.json" || true
            [[ ! $j =~ \"next\":\ *2[^0-9] ]] || break
        done
    fi
    pause_ms "$delay"
    kill -9 "$pid" 2>/dev/null || true
    status=0
    wait "$pid" 2>/dev/null || status=$?
    case $status in
    137) n_killed=$((n_killed + 1)) ;;
    0) n_finished=$((n_finished + 1)) ;;
    *) fail "round $round: the detach exited $status (neither killed nor done)" ;;
    esac

    # Where the kill hit, by the journal's "next": the step about to run
    # (or running), or the number of steps when only the commit was left.
    at="-"
    if [[ -e $state/journal.json ]]; then
        n_mid=$((n_mid + 1))
        cp "$state/journal.json" "$work/journal.before"
        journal=$(<"$work/journal.before")
        [[ $journal =~ \"next\":\ *([0-9]+) ]] || fail "round $round: no \"next\" in the journal"
        next=${BASH_REMATCH[1]}
        nsteps=$(grep -o '"from"' "$work/journal.before" | wc -l)
        if ((next >= nsteps)); then at=commit; else at="step $next"; fi
        hit[$at]=$((${hit[$at]:-0} + 1))
    fi
    rc=0
    rec_out=$("$vh" recover 2>&1) || rc=$?
    ((rc == 0)) || fail "round $round: recover exited $rc"
    case $rec_out in
    *"rolled back the interrupted detach"*) n_rolled=$((n_rolled + 1)) ;;
    *"completed the interrupted detach"*) n_completed=$((n_completed + 1)) ;;
    "nothing to recover: no operation was interrupted") n_nothing=$((n_nothing + 1)) ;;
    *) fail "round $round: unexpected output of recover" ;;
    esac
    [[ -e $work/journal.before || $rec_out == nothing* ]] ||
        fail "round $round: recover acted although there was no journal"
    # All steps run: recover completes; otherwise it rolls back.
    case $at in
    -) ;;
    commit) expect=b; [[ $rec_out == *"completed the interrupted detach"* ]] ||
        fail "round $round: the journal had all steps run but recover did not complete it" ;;
    *) expect=a; [[ $rec_out == *"rolled back the interrupted detach"* ]] ||
        fail "round $round: the journal was at $at but recover did not roll back" ;;
    esac

    [[ ! -e $state/journal.json ]] || fail "round $round: journal.json left after recover"
    # A kill between creating a temp file and renaming it over
    # registry.json or journal.json leaves the temp file: debris, not an
    # inconsistency (the loaders never read it).  Counted, not failed.
    leftovers=$(find "$state" -name '.*.tmp-*' | wc -l)
    if ((leftovers > n_tmp)); then
        echo "round $round: note: $((leftovers - n_tmp)) temp file(s) left in $state:" \
            "$(cd "$state" && ls -A | grep tmp- | tr '\n' ' ')"
        n_tmp=$leftovers
    fi

    d=$(tb_drivers_of " " $nic $peer)
    reg=$(registry) || fail "round $round: the registry cannot be read"
    ov=$(overrides)
    if [[ $d == "e1000 e1000" ]]; then
        [[ $reg == "$state_a_registry" ]] ||
            fail "round $round: both NICs are on e1000 but the registry lists devices"
        [[ $ov == "(null) (null)" ]] ||
            fail "round $round: both NICs are on e1000 but a driver_override is left: $ov"
        [[ ! -e /dev/vfio/$group ]] ||
            fail "round $round: both NICs are on e1000 but /dev/vfio/$group exists"
        ((status != 0)) || fail "round $round: the detach succeeded but recover undid it"
        n_a=$((n_a + 1))
        end=a
    elif [[ $d == "vfio-pci pci-stub" ]]; then
        [[ $reg == "$state_b_registry" ]] ||
            fail "round $round: the NICs are detached and held but the registry disagrees"
        [[ $ov == "vfio-pci pci-stub" ]] ||
            fail "round $round: driver_override after a completed detach: $ov"
        [[ -e /dev/vfio/$group ]] || fail "round $round: 01:01.0 is on vfio-pci but /dev/vfio/$group is missing"
        n_b=$((n_b + 1))
        end=b
    else
        fail "round $round: stranded: drivers '$d' are neither 'e1000 e1000' nor 'vfio-pci pci-stub'"
    fi
    [[ $at == - || $end == "$expect" ]] ||
        fail "round $round: the journal was at $at, so recover should have left state ($expect), not ($end)"
    printf 'round %2d: kill %4d ms after the %-7s: detach %-8s journal at %-6s recover: %-50s -> (%s)\n' \
        "$round" "$delay" "$kind" "$([[ $status == 137 ]] && echo killed || echo finished)" \
        "$at" "${rec_out##*$'\n'}" "$end"

    # Back to e1000/e1000 for the next round.
    if [[ $end == b ]]; then
        "$vh" nodedev-reattach $nic >/dev/null
        tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers after the reattach of round $round"
        tb_assert_eq "" "$(registry)" "registry after the reattach of round $round"
    fi
done
secs=$((($(now_us) - t_start) / 1000000))

echo "hostdev-kill: $rounds rounds in ${secs} s (seed $seed, detach ${dur} ms," \
    "journal window $((j_last - j_first)) ms): (a) back on e1000: $n_a, (b) detached: $n_b;" \
    "killed $n_killed, finished before the kill $n_finished;" \
    "journal present before recover (killed mid-operation): $n_mid" \
    "(rolled back $n_rolled, completed $n_completed); nothing to recover: $n_nothing;" \
    "temp files left by kills: $n_tmp"
echo "hostdev-kill: kills with a journal, by where they hit: step 0: ${hit[step 0]:-0}," \
    "step 1: ${hit[step 1]:-0}, commit: ${hit[commit]:-0}"
tb_assert_eq "$rounds" "$((n_a + n_b))" "rounds that ended in state (a) or (b)"
echo "PASS: hostdev-kill"
