#!/usr/bin/env bash
# QEMU 7.2 started with the -device arguments `virt-hostdev domxml-to-native
# qemu-argv` builds from domain XML: the edu device (00:03.0, bound to
# vfio-pci) must appear where the XML put it, as query-pci shows over QMP.
# Twice: behind a pcie-root-port in JSON syntax, and on the root bus at a
# given slot in --legacy syntax.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

vh=${VIRT_HOSTDEV_BUILD_DIR:?the build directory}/tools/virt-hostdev
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
edu=0000:00:03.0
work=$(mktemp -d)
qemu_pid=

cleanup() {
    if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
        kill "$qemu_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT

tb_assert_eq "" "$(tb_driver_of $edu)" "driver of edu $edu at boot"

echo "== detach edu for assignment"
"$vh" nodedev-detach $edu
tb_assert_eq "vfio-pci" "$(tb_driver_of $edu)" "driver of $edu after detach"

# domain_xml ADDRESS_ELEMENT CONTROLLERS: a q35 domain with the edu hostdev.
domain_xml() {
    cat <<EOF2
<domain type='qemu'>
  <name>argv-test</name>
  <memory unit='MiB'>64</memory>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
  </os>
  <devices>
    <controller type='pci' index='0' model='pcie-root'/>
$2
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source>
        <address domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
      </source>
      $1
    </hostdev>
  </devices>
</domain>
EOF2
}

# run_qemu XML EXPECTED [--legacy] -- EXTRA_QEMU_ARGS...: start QEMU paused
# with our -device line(s), ask query-pci where 1234:11e8 is, quit.
run_qemu() {
    local xml=$1 expected=$2 legacy=$3
    shift 4
    local -a args=()
    local line out sock=$work/qmp.sock

    # Our output is one shell-quoted `-device ARG` per line.
    out=$("$vh" domxml-to-native qemu-argv "$xml" $legacy)
    echo "$out"
    while IFS= read -r line; do
        eval "args+=($line)"
    done <<<"$out"
    tb_assert_eq 2 "${#args[@]}" "number of words in: $out"

    rm -f "$sock"
    qemu-system-x86_64 -S -nodefaults -display none -machine q35 -m 64 \
        -accel tcg -qmp "unix:$sock,server=on,wait=off" "$@" "${args[@]}" \
        >"$work/qemu.log" 2>&1 &
    qemu_pid=$!
    if ! found=$("$here/qmp-find-pci.py" "$sock" 1234:11e8 --quit); then
        cat "$work/qemu.log" >&2
        tb_fail "query-pci does not list 1234:11e8"
    fi
    echo "query-pci: $found"
    tb_assert_eq "$expected" "$found" "where query-pci puts 1234:11e8"
    wait "$qemu_pid" || tb_fail "QEMU exited $?: $(cat "$work/qemu.log")"
    qemu_pid=
}

echo "== behind a pcie-root-port (bus 0x01, slot 0), JSON syntax"
domain_xml "<address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>" \
    "    <controller type='pci' index='1' model='pcie-root-port'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </controller>" >"$work/port.xml"
run_qemu "$work/port.xml" "pci.1 0x0 0x0 hostdev0" "" -- \
    -device pcie-root-port,id=pci.1,bus=pcie.0,addr=0x2,chassis=1

echo "== on the root bus at slot 0x05, --legacy syntax, user alias"
domain_xml "<alias name='ua-edu'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>" \
    "" >"$work/root.xml"
run_qemu "$work/root.xml" "root 0x5 0x0 ua-edu" --legacy --

echo "== reattach"
"$vh" nodedev-reattach $edu
tb_assert_eq "" "$(tb_driver_of $edu)" "driver of $edu after reattach"
echo "PASS"
