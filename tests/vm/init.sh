#!/bin/sh
# /init of the test-bed guest (busybox sh, PID 1).  Built into the cached
# initramfs by tests/vm/testbed; editing this file rebuilds the initramfs.
#
# Steps: mount the kernel file systems, load the modules that the root needs,
# load the host drivers of the devices present (as udev's coldplug would),
# mount the host's root read-only over 9p with a tmpfs overlay on top, add
# the results share and the guest kernel's modules to it, chroot into it and
# run the scenario that the host wrote into the results share.  Then record
# its exit status and power off.  Any setup failure prints one
# "testbed-init: FAILED: ..." line and powers off without the exit marker,
# which the host reports as "the guest did not run the scenario".
#
# vfio, vfio-pci and pci-stub are deliberately NOT loaded here: tests check
# that the tool under test loads them itself.

export PATH=/bin:/sbin

NEWROOT=/newroot
RESULTS=$NEWROOT/testbed-results

fail() {
    echo "testbed-init: FAILED: $*"
    poweroff -f
    sleep 60
}

mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "mount /dev"
# /dev/console may be missing from the cpio when it was built without root.
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1

KVER=$(uname -r)
MODDIR=/lib/modules/$KVER

# Step 1: modules for the 9p root and the overlay, in dependency order.
while read -r mod; do
    [ -n "$mod" ] || continue
    insmod "$MODDIR/$mod" || fail "insmod $mod"
done </etc/testbed/boot-modules

# Step 2: host drivers for the devices present, found by modalias like a
# real host's udev coldplug (e1000, e1000e, virtio_blk, ...): PCI devices
# first, then the virtio devices that virtio_pci created.  A device without
# a driver in the module subset simply stays unbound.
for bus in pci virtio; do
    for alias in /sys/bus/$bus/devices/*/modalias; do
        [ -r "$alias" ] && modprobe -q "$(cat "$alias")" 2>/dev/null
    done
done

# Step 3: the host's root, read-only, under a writable tmpfs overlay.
mkdir -p /lower /rw "$NEWROOT"
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000 hostroot /lower ||
    fail "mount the host's root (9p tag hostroot; is the virtio-9p-pci device at 02.0 present?)"
mount -t tmpfs -o mode=0755 tmpfs /rw || fail "mount tmpfs for the overlay"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work \
    overlay "$NEWROOT" || fail "mount the overlay on the host's root"

# Step 4: kernel file systems, scratch space and the shares in the new root.
for fs in proc sys dev; do
    mount --move "/$fs" "$NEWROOT/$fs" || fail "move /$fs into the new root"
done
mkdir -p "$NEWROOT/dev/pts" "$NEWROOT/dev/shm"
# What udev would add to devtmpfs; bash's <(...) needs /dev/fd.
ln -sfn /proc/self/fd "$NEWROOT/dev/fd"
ln -sfn /proc/self/fd/0 "$NEWROOT/dev/stdin"
ln -sfn /proc/self/fd/1 "$NEWROOT/dev/stdout"
ln -sfn /proc/self/fd/2 "$NEWROOT/dev/stderr"
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts "$NEWROOT/dev/pts" ||
    fail "mount /dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$NEWROOT/dev/shm" || fail "mount /dev/shm"
mount -t tmpfs -o mode=0755 tmpfs "$NEWROOT/run" || fail "mount /run"
# /tmp stays the host's, seen through the overlay and written into its
# tmpfs: a checkout under /tmp (CI may clone there) runs in the guest too.
mkdir -p "$RESULTS"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results "$RESULTS" ||
    fail "mount the results share (9p tag results at 05.0)"
# The host's kmod (modprobe, modinfo) inside the chroot finds this kernel's
# modules at the usual place.
mkdir -p "$NEWROOT$MODDIR"
mount -o bind "$MODDIR" "$NEWROOT$MODDIR" || fail "bind $MODDIR into the new root"
hostname testbed

# Step 5: run the scenario, record its status, power off.
[ -r "$RESULTS/testbed-token" ] && [ -r "$RESULTS/testbed-run.sh" ] ||
    fail "no testbed-token or testbed-run.sh in the results share"
token=$(cat "$RESULTS/testbed-token")
echo "TESTBED-START $token"
chroot "$NEWROOT" /usr/bin/env -i /bin/bash --noprofile --norc \
    /testbed-results/testbed-run.sh <"$NEWROOT/dev/null"
rc=$?
if ! echo "$rc" >"$RESULTS/testbed-status"; then
    # The share is gone: the guest is stopping under the scenario (a
    # power-off from inside it killed it, SIGBUS on its 9p binaries).  No
    # exit marker, so the host reports a guest that stopped in the scenario.
    echo "testbed: the scenario ended with $rc while the guest stopped"
    sleep 60
fi
sync
echo "TESTBED-EXIT $token $rc"
poweroff -f
sleep 60
