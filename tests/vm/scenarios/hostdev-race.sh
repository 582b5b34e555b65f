#!/usr/bin/env bash
# The hostdev manager under a race: 16 nodedev-detach processes started at
# once on the two endpoints of one IOMMU group (01:01.0 and 01:02.0, behind
# the bridge 00:04.0), each for a different owner.  Exactly one owner gets
# the group; every other request is refused cleanly, naming that owner,
# and the registry and the drivers agree.  Then a reattach gives both back.
# The rounds run with each process alone, then again through virt-hostdevd.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

vh=${VIRT_HOSTDEV_BUILD_DIR:?the build directory}/tools/virt-hostdev
state=/run/virt-hostdev
nic=0000:01:01.0
peer=0000:01:02.0
group=$(tb_group_of $nic)
jobs=16
rounds=${TESTBED_RACE_ROUNDS:-3}
# Long enough that the requests queue on the lock instead of timing out.
export VIRT_HOSTDEV_TIMEOUT_MS=60000

tb_assert_eq "0000:00:04.0 $nic $peer" "$(tb_group_members "$group" | tr '\n' ' ' | sed 's/ $//')" \
    "members of group $group"


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

# PCI address -> libvirt node-device name.
nodedev_name() { local a=${1//[:.]/_}; echo "pci_$a"; }

# Everything a failure needs, to stderr.
dump() {
    local i
    {
        echo "---- round $round: state of the race"
        echo "drivers of $nic $peer: $(tb_drivers_of " " $nic $peer)"
        echo "registry:"; registry | sed 's/^/  /' || true
        echo "state dir:"; ls -la "$state" 2>&1 | sed 's/^/  /'
        for ((i = 0; i < jobs; i++)); do
            echo "job $i (${dev[i]} --owner vm$i): exit ${rc[i]:-?}"
            sed 's/^/  out: /' "$work/out.$i" 2>/dev/null || true
            sed 's/^/  err: /' "$work/err.$i" 2>/dev/null || true
        done
    } >&2
}
fail() { dump; tb_fail "$@"; }
all_ready() {
    local i
    for ((i = 0; i < jobs; i++)); do [[ -e $work/ready.$i ]] || return 1; done
}

tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers of 01:01.0 and 01:02.0 at boot"
[[ ! -e $state/registry.json ]] || tb_fail "a registry exists before the test"

work=$TESTBED_RESULTS/hostdev-race
mkdir -p "$work"
total_ms=0
declare -A wins_by_dev=()

# One round: 16 detaches at once, one winner, then the winner gives back.
race_round() {
    rm -f "$work"/*
    gate=/run/hostdev-race-gate # a FIFO: not on the 9p results share
    rm -f "$gate"
    mkfifo "$gate"
    dev=() pids=() rc=()

    # Each job says it is ready, then blocks opening the gate (a FIFO) for
    # reading until the parent opens it for writing: all 16 start together.
    # Half ask for 01:01.0 and half for 01:02.0, interleaved, alternating
    # which comes first from round to round.
    for ((i = 0; i < jobs; i++)); do
        if (((i + round) % 2)); then dev[i]=$nic; else dev[i]=$peer; fi
        (
            : >"$work/ready.$i"
            exec <"$gate"
            exec "$vh" nodedev-detach "${dev[i]}" --owner "vm$i" \
                >"$work/out.$i" 2>"$work/err.$i"
        ) &
        pids[i]=$!
    done
    tb_wait_until 30 "the $jobs detach jobs to be ready" all_ready
    sleep 0.2 # let the last ones reach the open of the gate
    t0=${EPOCHREALTIME/./}
    exec 8>"$gate"
    for ((i = 0; i < jobs; i++)); do
        rc[i]=0
        wait "${pids[i]}" || rc[i]=$?
    done
    t1=${EPOCHREALTIME/./}
    exec 8>&-
    ms=$(((t1 - t0) / 1000))
    total_ms=$((total_ms + ms))

    # Exactly one winner.
    winner=-1 refused=0 other=0
    for ((i = 0; i < jobs; i++)); do
        case ${rc[i]} in
        0)
            ((winner < 0)) || fail "round $round: two detaches succeeded: job $winner (vm$winner) and job $i (vm$i)"
            winner=$i
            ;;
        1) refused=$((refused + 1)) ;;
        *) other=$((other + 1)) ;;
        esac
    done
    ((other == 0)) || fail "round $round: $other detach(es) exited neither 0 nor 1"
    ((winner >= 0)) || fail "round $round: no detach succeeded"
    owner=vm$winner
    wdev=${dev[winner]}
    if [[ $wdev == "$nic" ]]; then wpeer=$peer; else wpeer=$nic; fi
    wins_by_dev[$wdev]=$((${wins_by_dev[$wdev]:-0} + 1))

    out=$(head -n1 "$work/out.$winner")
    [[ $out == "Device $(nodedev_name "$wdev") detached" ]] ||
        fail "round $round: the winner's output does not start with 'Device $(nodedev_name "$wdev") detached': $out"
    [[ ! -s $work/err.$winner ]] ||
        fail "round $round: the winner wrote to stderr: $(cat "$work/err.$winner")"

    # Every other one refused in one line that names the winner.
    for ((i = 0; i < jobs; i++)); do
        ((i != winner)) || continue
        [[ ! -s $work/out.$i ]] || fail "round $round: refused job $i wrote to stdout"
        tb_assert_eq 1 "$(wc -l <"$work/err.$i")" "lines of stderr of refused job $i (vm$i, ${dev[i]}), round $round"
        err=$(cat "$work/err.$i")
        if [[ ${dev[i]} == "$wdev" ]]; then now=vfio-pci; else now=pci-stub; fi
        [[ $err == "virt-hostdev: ${dev[i]} ($now): IOMMU group $group belongs to $owner; "* ]] ||
            fail "round $round: job $i (vm$i, ${dev[i]}) was not refused naming $owner: $err"
    done

    # The registry holds the group's two endpoints, for the winner only.
    tb_assert_eq "$(printf '%s\n' \
        "$wdev assigned $owner vfio-pci e1000 $group" \
        "$wpeer held $owner pci-stub e1000 $group" | sort)" \
        "$(registry)" "registry after the race of round $round (winner job $winner)"
    tb_assert_eq "vfio-pci pci-stub" "$(tb_driver_of "$wdev") $(tb_driver_of "$wpeer")" \
        "drivers of $wdev (assigned) and $wpeer (held) after round $round"
    tb_assert_eq "" "$(tb_driver_of 0000:00:04.0)" "the bridge keeps no driver (round $round)"
    tb_assert_file "/dev/vfio/$group" "/dev/vfio/$group after round $round"
    [[ ! -e $state/journal.json ]] || fail "round $round: journal.json left after the race"
    leftovers=$(find "$state" -name '.*.tmp-*' | wc -l)
    tb_assert_eq 0 "$leftovers" "temp files left in $state after round $round"

    echo "round $round: $jobs detaches in ${ms} ms: vm$winner won with $wdev," \
        "$refused refused naming it"

    # The winner gives the group back.
    "$vh" nodedev-reattach "$wdev" >/dev/null
    tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers after the reattach of round $round"
    tb_assert_eq "" "$(registry)" "registry after the reattach of round $round"
    [[ ! -e $state/journal.json ]] || fail "round $round: journal.json left after the reattach"
    [[ ! -e /dev/vfio/$group ]] || fail "round $round: /dev/vfio/$group outlived the reattach"
}

# The processes alone, each its own virt-hostdev-cli...
export VIRT_HOSTDEV_SOCKET=
for ((round = 1; round <= rounds; round++)); do
    race_round
done
alone_ms=$((total_ms / rounds))

# ...then the same race run by virt-hostdevd: 16 children of the daemon at
# once, serialised by the same lock.
echo "== the same race through virt-hostdevd"
unset VIRT_HOSTDEV_SOCKET
log=$work-virt-hostdevd.log
"${VIRT_HOSTDEV_BUILD_DIR}/tools/virt-hostdevd" --verbose 2>"$log" &
daemon=$!
tb_wait_until 60 "virt-hostdevd listening" grep -q "^virt-hostdevd: listening on" "$log"
total_ms=0
for ((round = rounds + 1; round <= 2 * rounds; round++)); do
    before=$(grep -c ': nodedev-detach .*: ran, exit [01],' "$log" || true)
    race_round
    after=$(grep -c ': nodedev-detach .*: ran, exit [01],' "$log" || true)
    tb_assert_eq $((before + jobs)) "$after" "detaches the daemon ran in round $round"
done
kill -TERM $daemon
wait $daemon || tb_fail "virt-hostdevd exited with $? on SIGTERM"

echo "hostdev-race: $rounds rounds of $jobs concurrent detaches alone and" \
    "$rounds through virt-hostdevd: 1 winner and $((jobs - 1)) clean refusals" \
    "each; wins on $nic: ${wins_by_dev[$nic]:-0}, on $peer:" \
    "${wins_by_dev[$peer]:-0}; per round $alone_ms ms alone," \
    "$((total_ms / rounds)) ms through the daemon"
echo "PASS: hostdev-race"
