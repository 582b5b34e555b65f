# shellcheck shell=bash
# Guest-side helpers for test-bed scenarios (bash).  Source it first:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
#
# It turns on errexit/nounset/pipefail and reports any failing command with
# its file and line, so a scenario fails loudly or not at all.  Asserts print
# the location, what was checked, the expected and the actual values, then
# exit 1, like the kernel selftests' asserts.

set -eEuo pipefail
shopt -s inherit_errexit

if [[ ${TESTBED:-} != 1 ]]; then
    echo "lib.sh: this scenario runs inside the test bed: tests/vm/testbed ${0}" >&2
    exit 1
fi

TB_SYSFS_PCI=/sys/bus/pci/devices

# file:line of the innermost caller outside lib.sh (the scenario's line).
tb__where() {
    local i n=${#BASH_SOURCE[@]}
    for ((i = 1; i < n - 1; i++)); do
        [[ ${BASH_SOURCE[i + 1]} == "${BASH_SOURCE[0]}" ]] && continue
        echo "${BASH_SOURCE[i + 1]##*/}:${BASH_LINENO[i]}"
        return 0
    done
    echo "${BASH_SOURCE[n - 1]##*/}:${BASH_LINENO[n - 2]}"
}

tb__on_err() {
    local rc=$1 cmd=$2
    trap - ERR
    # In a subshell ($(...), a pipeline) just stop it; the command in the
    # scenario that used it fails in turn and is reported there.
    ((BASH_SUBSHELL == 0)) || exit "$rc"
    echo "FAIL: $(tb__where): command exited $rc: $cmd" >&2
    exit 1
}
trap 'tb__on_err $? "$BASH_COMMAND"' ERR

# tb_fail MESSAGE...: fail the scenario with MESSAGE.
tb_fail() {
    trap - ERR
    echo "FAIL: $(tb__where): $*" >&2
    exit 1
}

# tb_assert_eq EXPECTED ACTUAL WHAT: fail unless the two strings are equal.
tb_assert_eq() {
    local expected=$1 actual=$2 what=$3
    [[ $expected == "$actual" ]] && return 0
    trap - ERR
    {
        echo "FAIL: $(tb__where): $what"
        echo "  expected: '$expected'"
        echo "  actual:   '$actual'"
    } >&2
    exit 1
}

# tb_assert_file PATH [WHAT]: fail unless PATH exists.
tb_assert_file() {
    local path=$1 what=${2:-$1 exists}
    [[ -e $path ]] && return 0
    trap - ERR
    {
        echo "FAIL: $(tb__where): $what"
        echo "  missing: $path"
        echo "  $(dirname "$path") holds: $(ls -A "$(dirname "$path")" 2>&1 | tr '\n' ' ')"
    } >&2
    exit 1
}

# tb_wait_until SECONDS WHAT COMMAND...: poll COMMAND every 50 ms until it
# succeeds; fail with WHAT after SECONDS.
tb_wait_until() {
    local secs=$1 what=$2
    shift 2
    local deadline=$((${EPOCHSECONDS} + secs))
    until "$@"; do
        if ((EPOCHSECONDS >= deadline)); then
            trap - ERR
            echo "FAIL: $(tb__where): timed out after ${secs} s waiting for: $what" >&2
            exit 1
        fi
        sleep 0.05
    done
}

# tb_addr ADDR: the full PCI address (domain added when missing).
tb_addr() {
    case $1 in
    ????:??:??.?) echo "$1" ;;
    ??:??.?) echo "0000:$1" ;;
    *) tb_fail "not a PCI address: '$1'" ;;
    esac
}

# tb_group_of ADDR: the IOMMU group number of a PCI device.
tb_group_of() {
    local addr link
    addr=$(tb_addr "$1")
    link=$(readlink "$TB_SYSFS_PCI/$addr/iommu_group") ||
        tb_fail "$addr has no iommu_group link (no such device, or no IOMMU)"
    echo "${link##*/}"
}

# tb_group_members GROUP: the addresses in an IOMMU group, sorted, one a line.
tb_group_members() {
    local dir=/sys/kernel/iommu_groups/$1/devices
    [[ -d $dir ]] || tb_fail "no IOMMU group $1"
    ls "$dir" | LC_ALL=C sort
}

# tb_driver_of ADDR: the driver bound to a PCI device, empty when none.
tb_driver_of() {
    local addr link
    addr=$(tb_addr "$1")
    [[ -e $TB_SYSFS_PCI/$addr ]] || tb_fail "no PCI device $addr"
    link=$(readlink "$TB_SYSFS_PCI/$addr/driver" || true)
    echo "${link##*/}"
}

# tb_drivers_of SEP ADDR...: the drivers of the devices joined by SEP, in
# the order given; a device without a driver gives an empty field
# ("tb_drivers_of / 00:03.0 01:01.0" is "/e1000" when 00:03.0 has none).
tb_drivers_of() {
    local sep=$1 out="" addr i=0
    shift
    for addr in "$@"; do
        ((i++ == 0)) || out+=$sep
        out+=$(tb_driver_of "$addr")
    done
    echo "$out"
}

tb__driver_is() {
    [[ $(tb_driver_of "$1") == "$2" ]]
}

# tb_bind ADDR DRIVER: bind a device to DRIVER the way the kernel documents
# it (driver_override, unbind, drivers_probe) and wait for the driver link.
# The driver's module must be loaded.
tb_bind() {
    local addr drv=$2 dev
    addr=$(tb_addr "$1")
    dev=$TB_SYSFS_PCI/$addr
    [[ -e $dev ]] || tb_fail "no PCI device $addr"
    [[ -d /sys/bus/pci/drivers/$drv ]] ||
        tb_fail "driver $drv is not registered (modprobe it first)"
    echo "$drv" >"$dev/driver_override"
    if [[ -e $dev/driver ]]; then
        echo "$addr" >"$dev/driver/unbind"
    fi
    echo "$addr" >/sys/bus/pci/drivers_probe
    tb_wait_until 10 "$addr bound to $drv (now: '$(tb_driver_of "$addr")')" \
        tb__driver_is "$addr" "$drv"
}

# tb_print_groups: every IOMMU group with its devices, for people to read:
# group number, address, vendor:device, bound driver, and lspci's name.
tb_print_groups() {
    local g addr ven dev drv line
    local -A name=()
    while read -r addr line; do
        name[$addr]=$line
    done < <(lspci -D 2>/dev/null || true)
    printf '%-5s  %-12s  %-9s  %-10s  %s\n' GROUP ADDRESS VEN:DEV DRIVER DEVICE
    for g in $(ls /sys/kernel/iommu_groups | sort -n); do
        for addr in $(tb_group_members "$g"); do
            read -r ven <"$TB_SYSFS_PCI/$addr/vendor"
            read -r dev <"$TB_SYSFS_PCI/$addr/device"
            drv=$(tb_driver_of "$addr")
            printf '%-5s  %-12s  %-9s  %-10s  %s\n' "$g" "$addr" \
                "${ven#0x}:${dev#0x}" "${drv:--}" "${name[$addr]:-}"
        done
    done
}

# tb_start_libvirt: start udevd, virtlogd and libvirtd inside the guest and
# wait until qemu:///system answers.  Their logs go to the results share.
tb_start_libvirt() {
    local log=${TESTBED_RESULTS:-/tmp}

    # Users and groups that libvirt's QEMU driver looks up (the host's
    # /etc is read-only underneath, the overlay takes the additions).
    grep -q '^kvm:' /etc/group || echo 'kvm:x:107:' >>/etc/group
    grep -q '^libvirt:' /etc/group || echo 'libvirt:x:106:' >>/etc/group
    grep -q '^libvirt-qemu:' /etc/group || echo 'libvirt-qemu:x:64055:libvirt-qemu' >>/etc/group
    grep -q '^libvirt-qemu:' /etc/passwd ||
        echo 'libvirt-qemu:x:64055:107:Libvirt Qemu,,,:/var/lib/libvirt:/usr/sbin/nologin' >>/etc/passwd

    # udev: libvirt's node-device driver enumerates through it.  PID 1 (the
    # initramfs's /init) lives outside our root, so systemd's tools think
    # they run in a chroot and udevadm would ignore trigger and settle.
    /lib/systemd/systemd-udevd --daemon
    SYSTEMD_IGNORE_CHROOT=1 udevadm trigger --action=add --type=subsystems
    SYSTEMD_IGNORE_CHROOT=1 udevadm trigger --action=add --type=devices
    SYSTEMD_IGNORE_CHROOT=1 udevadm settle --timeout=60 ||
        tb_fail "udevadm settle did not finish within 60 s"

    # No host network in the test bed: never autostart libvirt's default
    # network (it would set up 192.168.122.0/24).
    rm -f /etc/libvirt/qemu/networks/autostart/*.xml

    cat >/etc/libvirt/qemu.conf <<'EOF2'
# Written by tests/vm/lib.sh: the test bed runs QEMU as root, no sandboxing.
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
EOF2
    cat >/etc/libvirt/libvirtd.conf <<EOF2
# Written by tests/vm/lib.sh.
log_outputs = "3:file:$log/libvirtd.log"
EOF2
    cat >/etc/libvirt/virtlogd.conf <<EOF2
# Written by tests/vm/lib.sh.
log_outputs = "3:file:$log/virtlogd.log"
EOF2

    # Probing QEMU's capabilities costs about 6 s under TCG: start from the
    # ones an earlier run saved (libvirt re-probes when they are stale).
    local caps=/var/cache/libvirt/qemu/capabilities
    local saved=${TESTBED_CACHE:-}/libvirt-qemu-capabilities
    if [[ -n ${TESTBED_CACHE:-} && -d $saved ]]; then
        mkdir -p "$caps"
        cp "$saved"/*.xml "$caps/" 2>/dev/null || true
    fi

    virtlogd -d
    libvirtd -d
    tb_wait_until 120 "libvirtd to answer on qemu:///system (see $log/libvirtd.log)" \
        tb__libvirt_answers

    # Hand fresh capabilities to the host, which keeps them in its cache.
    if [[ -n ${TESTBED_RESULTS:-} ]] && ! diff -rq "$caps" "$saved" >/dev/null 2>&1; then
        mkdir -p "$TESTBED_RESULTS/testbed-libvirt-caps"
        cp "$caps"/*.xml "$TESTBED_RESULTS/testbed-libvirt-caps/" 2>/dev/null || true
    fi
}

tb__libvirt_answers() {
    virsh -c qemu:///system version >/dev/null 2>&1
}
