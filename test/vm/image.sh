#!/usr/bin/env bash
# Builds the VM suite's Debian 12 image: debootstrap (minbase) plus the kernel, systemd and the
# tools the labs and lessons use, made into a raw ext4 disk. Run by test/vm/run.mjs, which caches
# the result (keyed by a hash of this file) and boots it with snapshot=on, so the image itself is
# never written by a run.
#
#   image.sh OUTDIR MIRROR   ->  OUTDIR/{root.img,vmlinuz,initrd.img,packages.txt}
set -euo pipefail
out=$1
mirror=${2:-http://deb.debian.org/debian}

# The guest's packages. systemd-sysv and udev: a real boot with systemd owning cgroup v2 (mounted
# with nsdelegate, as on every current distribution). The rest is what labs bind from /usr and what
# the lessons and the lab tests run (mount, unshare, nsenter, setsid, setpriv, pivot_root, chroot,
# ldd, ps, pgrep, ip, ss, ping, capsh, ipcmk, lsns; perl comes with the base system), nft for
# lesson 15's NAT, and python3 and curl for lesson 08's web server and its client (a Debian or
# Ubuntu server install has both; debootstrap's minbase has neither). No compiler, as on many workshop VMs: the lessons that build C (06, 12) take
# their documented way without one here, which the host (it has gcc) cannot test.
packages=systemd-sysv,udev,linux-image-amd64,iproute2,procps,util-linux,mount,iputils-ping,libcap2-bin,libstdc++6,nftables,python3,curl,gdb-minimal

work=$(mktemp -d "${TMPDIR:-/tmp}/nslab-vm-image.XXXXXX")
trap 'umount -R "$work/root/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
root=$work/root

echo "vm image: debootstrap bookworm ($mirror)"
debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log"; exit 1; }

echo nslab-vm >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost nslab-vm\n' >"$root/etc/hosts"
printf '/dev/vda / ext4 rw,relatime 0 1\n' >"$root/etc/fstab"
# nothing to log in to, and a getty on ttyS0 would take the console the suite reports on
for u in serial-getty@ttyS0.service getty@tty1.service apt-daily.timer apt-daily-upgrade.timer \
         e2scrub_all.timer fstrim.timer systemd-timesyncd.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$u"
done

# The suite: a service as a workshop would run nslab (root, Delegate=yes), started once at boot. It
# mounts the project disk (vdb) and runs its test/vm/guest.sh, which writes the results to vdc.
# Whatever happens, the VM powers off afterwards.
cat >"$root/etc/systemd/system/nslab-vm-suite.service" <<'UNIT'
[Unit]
Description=nslab VM suite
After=local-fs.target systemd-udev-settle.service
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
Delegate=yes
TimeoutStartSec=infinity
StandardOutput=journal+console
StandardError=journal+console
ExecStart=/bin/sh -c 'mkdir -p /opt/nslab && mount /dev/vdb /opt/nslab && exec /bin/bash /opt/nslab/test/vm/guest.sh'

[Install]
WantedBy=multi-user.target
UNIT
ln -sf ../nslab-vm-suite.service "$root/etc/systemd/system/multi-user.target.wants/nslab-vm-suite.service"

chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' >"$work/packages.txt"
kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n 1)
cp "$kernel" "$work/vmlinuz"
cp "$root/boot/initrd.img-${kernel##*/vmlinuz-}" "$work/initrd.img"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

echo "vm image: mkfs.ext4 ($(du -sh "$root" | cut -f1))"
mkfs.ext4 -q -F -L nslab-vm -d "$root" "$work/root.img" 2G

mkdir -p "$out"
mv "$work/root.img" "$work/vmlinuz" "$work/initrd.img" "$work/packages.txt" "$out/"
echo "vm image: done, kernel ${kernel##*/vmlinuz-}"
