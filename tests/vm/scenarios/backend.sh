#!/usr/bin/env bash
# The unprivileged backend on a real kernel: `device-selftest` on QEMU's
# edu device passes every step through virt-hostdev-backend running as
# nobody with passed fds, and a look from outside the backend (/proc/PID
# while it is paused) confirms its uid, gid, no_new_privs, capabilities,
# and that it holds only the passed fds, its socket and what it made
# from them; its uid cannot open /dev/vfio/N by path.
#
#   tests/vm/testbed tests/vm/scenarios/backend.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

vh=${VIRT_HOSTDEV_BUILD_DIR:?the build directory}/tools/virt-hostdev
backend=$VIRT_HOSTDEV_BUILD_DIR/src/hostdev/vfio/backend/virt-hostdev-backend
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tb_assert_file "$vh" "the built virt-hostdev"
edu=0000:00:03.0
nic=0000:01:01.0
uid=65534
gid=65534
export VIRT_HOSTDEV_TIMEOUT_MS=5000

echo "== detach edu ($edu) to vfio-pci"
"$vh" nodedev-detach 00:03.0
tb_assert_eq vfio-pci "$(tb_driver_of $edu)" "driver of $edu after detach"
group=$(tb_group_of $edu)
ls -l /dev/vfio

# One /proc/PID/status field, whitespace squeezed.
status_field() {
    sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s '[:space:]' ' ' |
        sed 's/ $//'
}

# Every fd of PID must be one we expect: 0 and 1 on /dev/null, 2 the
# manager's stderr, 3 the control socket, 4 /dev/vfio/GROUP, 5
# /dev/vfio/vfio (or, when the fds came over the socket, whatever numbers
# recvmsg gave them), the device fd and eventfds it made.
check_fds() {
    local pid=$1 how=$2 fd target n_group=0 n_container=0 n_device=0 n_socket=0
    echo "-- ls -l /proc/$pid/fd (from outside the backend)"
    ls -l "/proc/$pid/fd"
    for fd in $(ls "/proc/$pid/fd" | sort -n); do
        target=$(readlink "/proc/$pid/fd/$fd")
        case $fd:$target in
        0:/dev/null | 1:/dev/null | 2:*) ;;
        *:"/dev/vfio/$group") n_group=$((n_group + 1)) ;;
        *:/dev/vfio/vfio) n_container=$((n_container + 1)) ;;
        *:"anon_inode:[vfio-device]") n_device=$((n_device + 1)) ;;
        *:"anon_inode:[eventfd]") ;;
        *:socket:*) n_socket=$((n_socket + 1)) ;;
        *) tb_fail "backend pid $pid holds fd $fd -> $target, which it was not given" ;;
        esac
    done
    tb_assert_eq "1 1 1 1" "$n_group $n_container $n_device $n_socket" \
        "group, container, device fds and sockets held by the backend ($how)"
    if [[ $how == inherit ]]; then
        tb_assert_eq "socket:" "$(readlink /proc/$pid/fd/3 | cut -c1-7)" "fd 3 is the control socket"
        tb_assert_eq "/dev/vfio/$group" "$(readlink /proc/$pid/fd/4)" "fd 4 is the group"
        tb_assert_eq "/dev/vfio/vfio" "$(readlink /proc/$pid/fd/5)" "fd 5 is the container"
    fi
}

# Run device-selftest --pause; while the backend is paused, look at it.
selftest_paused() {
    local how=$1 line pid="" out="" rc st_pid
    coproc ST { "$vh" device-selftest 00:03.0 --uid $uid --gid $gid \
                    --pass "$how" --pause 2>&1; }
    # bash unsets ST_PID once the coprocess ends: keep it.
    st_pid=$ST_PID
    while IFS= read -r -t 120 line <&"${ST[0]}"; do
        echo "$line"
        out+="$line"$'\n'
        if [[ $line =~ ^paused:\ backend\ pid\ ([0-9]+) ]]; then
            pid=${BASH_REMATCH[1]}
            break
        fi
    done
    [[ -n $pid ]] || tb_fail "device-selftest --pass $how never paused: $out"

    echo "-- /proc/$pid/status (from outside the backend)"
    grep -E '^(Name|Uid|Gid|Groups|NoNewPrivs|CapPrm|CapEff|CapBnd|CapAmb):' "/proc/$pid/status"
    tb_assert_eq "virt-hostdev-ba" "$(status_field $pid Name)" "name of pid $pid"
    tb_assert_eq "$uid $uid $uid $uid" "$(status_field $pid Uid)" "real/effective/saved/fs uid of the backend"
    tb_assert_eq "$gid $gid $gid $gid" "$(status_field $pid Gid)" "real/effective/saved/fs gid of the backend"
    tb_assert_eq "" "$(status_field $pid Groups)" "supplementary groups of the backend"
    tb_assert_eq "1" "$(status_field $pid NoNewPrivs)" "NoNewPrivs of the backend"
    tb_assert_eq "0000000000000000 0000000000000000" \
        "$(status_field $pid CapPrm) $(status_field $pid CapEff)" "permitted and effective capabilities"
    tb_assert_eq "67108864 67108864" \
        "$(sed -n 's/^Max locked memory *\([0-9]*\) *\([0-9]*\) .*/\1 \2/p' /proc/$pid/limits)" \
        "RLIMIT_MEMLOCK of the backend, raised by the manager (64 MiB)"
    check_fds "$pid" "$how"

    echo "-- path access of uid $uid to /dev/vfio"
    if setpriv --reuid=$uid --regid=$gid --clear-groups cat "/dev/vfio/$group" </dev/null 2>/tmp/open.err; then
        tb_fail "uid $uid could open /dev/vfio/$group by path"
    fi
    cat /tmp/open.err
    grep -q "Permission denied" /tmp/open.err ||
        tb_fail "opening /dev/vfio/$group as uid $uid failed, but not with EACCES: $(cat /tmp/open.err)"

    # Let it finish.
    echo >&"${ST[1]}"
    while IFS= read -r -t 60 line <&"${ST[0]}"; do
        echo "$line"
        out+="$line"$'\n'
    done
    wait "$st_pid" && rc=0 || rc=$?
    tb_assert_eq 0 "$rc" "exit status of device-selftest --pass $how"
    [[ $out == *"all "*" steps passed"* ]] || tb_fail "device-selftest did not say all steps passed"
    [[ $out != *FAILED* ]] || tb_fail "a step FAILED"
    for step in "edu ID register" "edu liveness register" "edu MSI" \
                "edu DMA round trip" "edu DMA to an unmapped IOVA" \
                "config space readable" "BAR0 readable" "backend unprivileged"; do
        [[ $out == *"ok      $step: "* ]] || tb_fail "no passing step '$step' in the output"
    done
    [[ $out == *"ok      BAR0 readable: 1048576 bytes, dword at 0 = 0x010000ed by mmap"* ]] ||
        tb_fail "BAR0 was not read by mmap"
    [[ ! -e /proc/$pid ]] || tb_fail "backend pid $pid outlived device-selftest"
}

echo "== device-selftest, fds inherited (--group-fd 4 --container-fd 5)"
selftest_paused inherit
echo
echo "== device-selftest, fds over the socket (SCM_RIGHTS)"
selftest_paused socket
echo

echo "== an independent client (Python) of the backend's protocol"
"$here/backend-client.py" "$backend" $edu "$group"
echo

echo "== the IOMMU stopped the DMA to the unmapped IOVA: the kernel logged a DMAR fault"
faults=$(dmesg | grep -E 'DMAR: .*Request device \[00:03.0\] fault addr 0x200000' || true)
echo "$faults"
[[ -n $faults ]] || tb_fail "no DMAR fault for 00:03.0 at IOVA 0x200000 in the kernel log"

echo "== refusals"
if out=$("$vh" device-selftest 00:03.0 --uid 0 2>&1); then
    tb_fail "device-selftest --uid 0 succeeded: $out"
else
    rc=$?
fi
echo "$out"
tb_assert_eq 2 "$rc" "exit status of --uid 0"
[[ $out == *"--uid 0 would leave the backend root"* ]] || tb_fail "--uid 0 refusal does not say why: $out"
if out=$("$vh" device-selftest $nic 2>&1); then
    tb_fail "device-selftest on $nic (e1000) succeeded: $out"
fi
echo "$out"
[[ $out == *"on e1000, not vfio-pci"* ]] || tb_fail "refusal does not name the driver: $out"

echo "== a group that is not viable is refused, naming the blocker"
modprobe vfio-pci
tb_bind $nic vfio-pci
if out=$("$vh" device-selftest $nic 2>&1); then
    tb_fail "device-selftest on $nic in a non-viable group succeeded: $out"
fi
echo "$out"
[[ $out == *"0000:01:02.0"* ]] || tb_fail "refusal does not name the blocker 0000:01:02.0: $out"
tb_bind $nic e1000
echo >/sys/bus/pci/devices/$nic/driver_override

echo "== reattach edu"
"$vh" nodedev-reattach 00:03.0
tb_assert_eq "" "$(tb_driver_of $edu)" "driver of $edu after reattach (it had none)"
echo "backend scenario: PASS"
