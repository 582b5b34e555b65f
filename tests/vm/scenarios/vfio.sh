#!/usr/bin/env bash
# The VFIO library on the real kernel (issue 6): device-info on edu bound to
# vfio-pci; DMA map/unmap and an edu DMA round trip through the library;
# MSI-X vectors of an e1000e enabled one by one with a loopback trigger
# reaching each eventfd; a group that is not viable refused, naming the
# member that blocks it.  Needs an e1000e at 00:06.0 beside the defaults:
#
#   tests/vm/testbed --extra-qemu "-device e1000e,addr=06.0" \
#       tests/vm/scenarios/vfio.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

build=${VIRT_HOSTDEV_BUILD_DIR:?the build directory}
vh=$build/tools/virt-hostdev
probe=$build/tests/vm/vh-vfio-probe
tb_assert_file "$vh" "the built virt-hostdev"
tb_assert_file "$probe" "the built vh-vfio-probe"

edu=0000:00:03.0
nic=0000:00:06.0
tb_assert_eq "0x8086:0x10d3" \
    "$(cat $TB_SYSFS_PCI/$nic/vendor):$(cat $TB_SYSFS_PCI/$nic/device)" \
    "vendor:device of $nic (e1000e; run with --extra-qemu '-device e1000e,addr=06.0')"

modprobe vfio-pci
tb_bind $edu vfio-pci

echo "== virt-hostdev device-info $edu"
"$vh" device-info $edu | tee /tmp/edu-info
grep -q "^  BAR0     size 0x100000 *1 MiB *read write mmap  mmap: \[0x0, +0x100000)$" /tmp/edu-info ||
    tb_fail "BAR0 is not shown as 1 MiB, read write mmap, mapped whole"
grep -q "^  INTx     count 1 " /tmp/edu-info || tb_fail "INTx count is not 1"
grep -q "^  MSI      count 1 " /tmp/edu-info || tb_fail "MSI count is not 1"
grep -q "^Device:       $edu (vfio-pci), IOMMU group $(tb_group_of $edu)$" /tmp/edu-info ||
    tb_fail "device line"

echo "== virt-hostdev device-info $edu --json"
"$vh" device-info $edu --json >/tmp/edu-info.json
python3 - /tmp/edu-info.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bar0 = d["regions"][0]
irq = {i["name"]: i for i in d["interrupts"]}
checks = [
    ("address", d["address"] == "0000:00:03.0"),
    ("BAR0 size 1 MiB", bar0["name"] == "BAR0" and bar0["size"] == 1 << 20),
    ("BAR0 mmap-able whole", "mmap" in bar0["flags"]
        and bar0["mmap_areas"] == [{"offset": 0, "size": 1 << 20}]),
    ("MSI count 1", irq["MSI"]["count"] == 1),
    ("INTx count 1, automasked", irq["INTx"]["count"] == 1
        and "automasked" in irq["INTx"]["flags"]),
    ("edu has no reset", d["reset"]["method"] == "none"),
    ("IOVA ranges reported", len(d["iova_ranges"]) >= 2),
    ("dma_avail reported", isinstance(d["dma_avail"], int) and d["dma_avail"] > 0),
]
bad = [name for name, ok in checks if not ok]
for name, ok in checks:
    print(("ok   " if ok else "FAIL ") + name)
sys.exit(1 if bad else 0)
PY

echo "== DMA through the library on $edu"
"$probe" dma $edu

echo "== MSI-X on the e1000e $nic, bound to vfio-pci"
tb_bind $nic vfio-pci
"$vh" device-info $nic | tee /tmp/nic-info
grep -q "^MSI-X table:  5 vectors in BAR3" /tmp/nic-info ||
    tb_fail "the e1000e's MSI-X table (5 vectors, BAR3) is not shown"
"$probe" msix $nic

echo "== a group that is not viable: 01:01.0 on vfio-pci, 01:02.0 on e1000"
tb_bind 0000:01:01.0 vfio-pci
tb_assert_eq e1000 "$(tb_driver_of 0000:01:02.0)" "driver of 0000:01:02.0"
rc=0
"$vh" device-info 0000:01:01.0 >/tmp/nv.out 2>/tmp/nv.err || rc=$?
cat /tmp/nv.err
tb_assert_eq 1 "$rc" "exit status of device-info on a non-viable group"
tb_assert_eq "" "$(cat /tmp/nv.out)" "standard output of the refused device-info"
grep -q "group $(tb_group_of 0000:01:01.0) is not viable: 0000:01:02.0 (e1000) is still bound to a host driver" /tmp/nv.err ||
    tb_fail "the refusal does not name 0000:01:02.0 (e1000)"
echo "PASS: vfio"
