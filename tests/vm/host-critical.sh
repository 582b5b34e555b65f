#!/usr/bin/env bash
# Host side of the host-critical test: a raw ext4 disk on a virtio-blk-pci
# behind the PCIe-to-PCI bridge (so it shares the e1000s' IOMMU group),
# then the guest scenario mounts it and routes through one e1000.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
img=$(mktemp --tmpdir=/var/tmp vh-disk-XXXXXX.img)
trap 'rm -f "$img"' EXIT
truncate -s 16M "$img"
mkfs.ext4 -q -F "$img"
exec "$here/testbed" \
    --devices "-device edu,addr=03.0 -device pcie-pci-bridge,id=br0,addr=04.0 \
-device e1000,bus=br0,addr=1 -device e1000,bus=br0,addr=2 \
-device virtio-blk-pci,drive=disk0,bus=br0,addr=3" \
    --extra-qemu "-drive if=none,id=disk0,format=raw,file=$img" \
    "$here/scenarios/host-critical.sh"
