#include "statview.h"

#include <sys/sysmacros.h>

namespace vview {

bool StatView::apply(struct stat& st) const {
  const OwnerOverride* o = find(st.st_dev, st.st_ino);
  uint32_t uid = o && o->uid >= 0 ? (uint32_t)o->uid : st.st_uid == real_uid ? fake_uid : st.st_uid;
  uint32_t gid = o && o->gid >= 0 ? (uint32_t)o->gid : st.st_gid == real_gid ? fake_gid : st.st_gid;
  mode_t mode = st.st_mode;
  dev_t rdev = st.st_rdev;
  if (o && o->perm >= 0) mode = (mode & S_IFMT) | (mode_t)o->perm;
  if (o && o->type && S_ISREG(mode)) {
    mode = (mode & ~S_IFMT) | o->type;
    rdev = o->rdev;
  }
  bool changed = uid != st.st_uid || gid != st.st_gid || mode != st.st_mode || rdev != st.st_rdev;
  st.st_uid = uid;
  st.st_gid = gid;
  st.st_mode = mode;
  st.st_rdev = rdev;
  return changed;
}

bool StatView::apply(struct statx& x) const {
  if (!(x.stx_mask & STATX_INO)) return false;  // which file it is cannot be told
  const OwnerOverride* o = find(makedev(x.stx_dev_major, x.stx_dev_minor), x.stx_ino);
  bool changed = false;
  if (x.stx_mask & STATX_UID) {
    uint32_t uid = o && o->uid >= 0 ? (uint32_t)o->uid : x.stx_uid == real_uid ? fake_uid : x.stx_uid;
    changed |= uid != x.stx_uid;
    x.stx_uid = uid;
  }
  if (x.stx_mask & STATX_GID) {
    uint32_t gid = o && o->gid >= 0 ? (uint32_t)o->gid : x.stx_gid == real_gid ? fake_gid : x.stx_gid;
    changed |= gid != x.stx_gid;
    x.stx_gid = gid;
  }
  if (o && o->perm >= 0 && (x.stx_mask & STATX_MODE)) {
    uint16_t m = (uint16_t)((x.stx_mode & S_IFMT) | o->perm);
    changed |= m != x.stx_mode;
    x.stx_mode = m;
  }
  if (o && o->type && (x.stx_mask & STATX_TYPE) && S_ISREG(x.stx_mode)) {
    x.stx_mode = (uint16_t)((x.stx_mode & ~S_IFMT) | o->type);
    x.stx_rdev_major = major(o->rdev);
    x.stx_rdev_minor = minor(o->rdev);
    changed = true;
  }
  return changed;
}

}  // namespace vview
