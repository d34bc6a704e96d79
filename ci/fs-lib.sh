# shellcheck shell=bash
# File systems to run the kernel target on, made in a private temp directory
# and always taken down again. Sourced by ci/fs-matrix.sh and
# bench/kernel_throughput.sh, not run.
#
# fs_start: makes the private directory $fs_root (under /tmp) and sets the
#   traps: on exit, INT or TERM everything still mounted is unmounted and
#   $fs_root removed.
# fs_mount FS: makes and mounts FS (ext4, xfs, btrfs: a loop-mounted image;
#   tmpfs), sets $fs_dir to a directory in it and returns 0; or sets
#   $fs_reason to why FS cannot be set up here and returns 1.
# fs_umount FS: unmounts FS and removes its image.
# shellcheck disable=SC2034  # fs_dir and fs_reason are for the caller

fs_image_mb=${FS_IMAGE_MB:-512}
fs_mounted=()

fs_start() {
  fs_root=$(mktemp -d /tmp/pagerace-fs.XXXXXX)
  trap fs_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

fs_cleanup() {
  local m
  for m in "${fs_mounted[@]}"; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  fs_mounted=()
  rm -rf "$fs_root"
}

# The mkfs command line for FS, quiet and without lazy initialization
# (ext4's background init would slow the first minutes down).
fs_mkfs() {
  case $1 in
    ext4) echo "mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0" ;;
    xfs) echo "mkfs.xfs -q -f" ;;
    btrfs) echo "mkfs.btrfs -q -f" ;;
  esac
}

fs_package() {
  case $1 in ext4) echo e2fsprogs ;; xfs) echo xfsprogs ;; btrfs) echo btrfs-progs ;; esac
}

fs_mount() {
  local fs=$1 mkfs err
  fs_dir=
  fs_reason=
  local point=$fs_root/$fs
  if [[ $(id -u) -ne 0 ]]; then fs_reason="needs root (mount)"; return 1; fi
  if ! grep -qw "$fs" /proc/filesystems && ! modprobe -q "$fs" 2>/dev/null; then
    fs_reason="the kernel has no $fs (/proc/filesystems)"; return 1
  fi
  mkdir -p "$point"
  if [[ $fs == tmpfs ]]; then
    if ! err=$(mount -t tmpfs -o size=${fs_image_mb}m pagerace-tmpfs "$point" 2>&1); then
      fs_reason="mount -t tmpfs failed: $err"; return 1
    fi
  else
    mkfs=$(fs_mkfs "$fs")
    if [[ -z $mkfs ]]; then fs_reason="unknown file system (ext4, xfs, btrfs or tmpfs)"; return 1; fi
    if ! command -v "${mkfs%% *}" >/dev/null; then
      fs_reason="${mkfs%% *} not found (apt-get install $(fs_package "$fs"))"; return 1
    fi
    local image=$fs_root/$fs.img
    truncate -s ${fs_image_mb}M "$image"
    if ! err=$($mkfs "$image" 2>&1); then fs_reason="$mkfs failed: $err"; return 1; fi
    if ! err=$(mount -o loop "$image" "$point" 2>&1); then
      rm -f "$image"
      fs_reason="mount -o loop failed: $err"; return 1
    fi
  fi
  fs_mounted+=("$point")
  fs_dir=$point
}

fs_umount() {
  local point=$fs_root/$1 m keep=()
  umount "$point" 2>/dev/null || umount -l "$point"
  for m in "${fs_mounted[@]}"; do [[ $m == "$point" ]] || keep+=("$m"); done
  fs_mounted=("${keep[@]}")
  rm -f "$fs_root/$1.img"
  rmdir "$point"
}
