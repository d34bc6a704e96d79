// The host kernel's page cache over pagerace's own file system: the kernel
// target's ops (kernel_target.h) on the files of a FUSE mount that this
// process serves (fuse_server.h). Real threads only. The mount's options
// are the program's fuse knob, its store the program's backend (memory,
// file or blockmap) and io: one mount per (fuse, backend, io) a program
// asks for, made at its first program and kept.
#pragma once

#include <memory>
#include <string>

#include "harness/base/status.h"
#include "harness/run/target.h"

namespace pagerace {

struct FuseTargetOptions {
  std::string dir;  // parent of the private directory; "" = $TMPDIR
  uint8_t mount = 0;
  BackendKind store = BackendKind::kMemory;
  IoMode io = IoMode::kPread;
};

// kNotSupported, with a one-line reason, where FUSE is not available.
Result<std::unique_ptr<Target>> CreateFuseTarget(const FuseTargetOptions& options);

}  // namespace pagerace
