#!/usr/bin/env bash
# Scenario for tests/vm/selftest.sh: checks what the harness promises to hand
# a scenario, then exits with the status it was asked for.
#
#   probe.sh EXIT_STATUS EXPECTED_VIRT_HOSTDEV_SELFTEST EXPECTED_CWD ARG
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

[[ $# -eq 4 ]] || tb_fail "probe.sh wants 4 arguments, got $#: $*"
status=$1

tb_assert_eq 1 "$TESTBED" "TESTBED in the guest"
tb_assert_eq /testbed-results "$TESTBED_RESULTS" "TESTBED_RESULTS in the guest"
tb_assert_eq "$2" "${VIRT_HOSTDEV_SELFTEST-unset}" "VIRT_HOSTDEV_SELFTEST passed through from the host"
tb_assert_eq "$3" "$PWD" "working directory (the host's)"
tb_assert_eq "two words, 'quoted' \$dollar" "$4" "an argument with spaces and quotes"
tb_assert_eq 0 "$(id -u)" "uid in the guest"
case $(uname -r) in
6.1.*) ;;
*) tb_fail "guest kernel is $(uname -r), expected Debian's 6.1" ;;
esac
tb_assert_file /sys/kernel/iommu_groups/0 "IOMMU groups (intel-iommu)"
# The host's kmod finds the guest kernel's modules; nothing loaded vfio yet.
modprobe --show-depends vfio-pci >/dev/null || tb_fail "modprobe cannot resolve vfio-pci"
modprobe --show-depends pci-stub >/dev/null || tb_fail "modprobe cannot resolve pci-stub"
tb_assert_eq absent "$([[ -e /sys/module/vfio ]] && echo present || echo absent)" \
    "vfio module at boot"
# Writable scratch space and the results share.
touch /tmp/probe /run/probe /etc/probe
cat <(echo process substitution) >/dev/null
echo "probe wrote this" >"$TESTBED_RESULTS/probe.out"
echo "probe: ok, exiting $status"
exit "$status"
