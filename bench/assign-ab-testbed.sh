#!/usr/bin/env bash
# Two virt-hostdev binaries side by side in the assign test bed, interleaved
# (bench/README.rst, "assign"): --version, nodedev-detach --dry-run and
# nodedev-detach of the 9 devices, each given back untimed, 7 rounds.
#
#   DEVS=$(python3 -c 'from importlib.machinery import SourceFileLoader as L;
#          print(L("a", "bench/assign").load_module().testbed_devices(8))')
#   VH_AB_A=/path/old/virt-hostdev VH_AB_B=/path/new/virt-hostdev \
#     VH_AB_TIMER=/path/spawnbench tests/vm/testbed --timeout 900 \
#     --devices "$DEVS" bench/assign-ab-testbed.sh
#
# VH_AB_TIMER runs a command N times and prints "LABEL median X ms ...":
# any such timer; the run quoted in bench/README.rst used a 30-line C
# program around posix_spawn() and wait4().
A=${VH_AB_A:?old binary}
B=${VH_AB_B:?new binary}
T=${VH_AB_TIMER:?timer}
devs="0000:02:00.0 0000:03:00.0 0000:04:00.0 0000:05:00.0 0000:06:00.0 0000:07:00.0 0000:08:00.0 0000:09:00.0 0000:01:01.0"
modprobe vfio-pci; modprobe pci-stub
"$A" --version >/dev/null; "$B" --version >/dev/null
"$B" nodedev-detach $devs >/dev/null && "$B" nodedev-reattach $devs >/dev/null   # warm-up
echo "ab: $(ls /sys/bus/pci/devices | wc -l) PCI devices"
for r in 1 2 3 4 5 6 7; do
    for side in A B; do
        bin=${!side}
        "$T" 1 "r$r $side version" "$bin" --version
        "$T" 1 "r$r $side dry-run" "$bin" nodedev-detach --dry-run $devs
        "$T" 1 "r$r $side detach" "$bin" nodedev-detach $devs
        "$bin" nodedev-reattach $devs >/dev/null || echo "ab: reattach failed"
    done
done
for d in $devs 0000:01:02.0; do
    echo "ab: $d $(basename "$(readlink /sys/bus/pci/devices/$d/driver)")"
done
