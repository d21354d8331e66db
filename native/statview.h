// The stat view: how file ownership looks inside a view with fake ids. The
// policy (which ids, which inodes carry recorded owners) is set from
// JavaScript; native code applies it to every stat-family result on the fast
// path, so a stat under a fake root costs one stop and no JavaScript.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <sys/stat.h>

#include "generated/abi.h"  // StatKind: how a stat-family syscall takes its arguments

namespace vview {


struct OwnerOverride {
  int64_t uid = -1, gid = -1;  // -1: not recorded
  int32_t perm = -1;           // permission bits (07777), -1: the file's own
  uint32_t type = 0;           // S_IFCHR / S_IFBLK shown for a placeholder regular file
  uint64_t rdev = 0;
};

struct InodeKey {
  uint64_t dev, ino;
  bool operator==(const InodeKey& o) const { return dev == o.dev && ino == o.ino; }
};
struct InodeKeyHash {
  size_t operator()(const InodeKey& k) const { return std::hash<uint64_t>()(k.ino * 1000003u ^ k.dev); }
};

class StatView {
 public:
  bool enabled = false;
  uint32_t real_uid = 0, real_gid = 0, fake_uid = 0, fake_gid = 0;

  void set(uint64_t dev, uint64_t ino, const OwnerOverride& o) { overrides_[{dev, ino}] = o; }
  void erase(uint64_t dev, uint64_t ino) { overrides_.erase({dev, ino}); }
  // Nothing would look different: the kernel's answer can be used as it is.
  bool identity() const { return overrides_.empty() && real_uid == fake_uid && real_gid == fake_gid; }

  // Rewrites the fields in place; returns whether anything changed.
  bool apply(struct stat& st) const;
  bool apply(struct statx& stx) const;

 private:
  const OwnerOverride* find(uint64_t dev, uint64_t ino) const {
    auto it = overrides_.find({dev, ino});
    return it == overrides_.end() ? nullptr : &it->second;
  }
  std::unordered_map<InodeKey, OwnerOverride, InodeKeyHash> overrides_;
};

}  // namespace vview
