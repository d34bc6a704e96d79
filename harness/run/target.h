// What the executor runs a program against: the page-cache model over a
// backend (model_target.cc), or the host kernel's page cache on real files
// (kernel_target.h). The executor owns the threads, the stamps and the
// history; a Target only performs operations and the end-of-run reads.
// Thread-safety: Apply may be called from every program thread at once (and
// RunFlusher from one more); everything else from one thread, between runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/backend/backend.h"
#include "harness/base/status.h"
#include "harness/oracle/checker.h"
#include "harness/oracle/history.h"
#include "harness/program/program.h"

namespace pagerace {

enum class TargetKind : uint8_t {
  kModel,   // the page-cache model (mutants, controlled schedules)
  kKernel,  // the host kernel on real files (free schedule only)
  kFuse,    // the host kernel on a FUSE mount that pagerace serves (fuse_target.h; free schedule only)
};
// Whether the target runs the host kernel (kernel, fuse): real threads only,
// no mutant of the model.
inline bool OnHostKernel(TargetKind kind) { return kind != TargetKind::kModel; }
const char* TargetName(TargetKind kind);
std::optional<TargetKind> TargetFromName(std::string_view name);

// Whether programs run on `target` may hold size ops (truncate, and collapse
// and insert, which move the end of the file too: HasSizeOps), given the
// caller's opt-in to them: the soak's --mix (it draws them only where the
// mix names them), the kernel fuzz target's PAGERACE_KERNEL_TRUNCATE=1 (it
// passes over inputs with one otherwise). On the host kernel they are
// opt-in: their first finding there (GARBAGE after the file grew, once, on
// ext4 under load) is not yet classified as the host's or the oracle's.
bool RunsSizeOps(TargetKind target, bool opted_in);
bool HasSizeOps(const Program& program);
bool HasShifts(const Program& program);  // collapse or insert
// Whether the program writes with O_DIRECT (dio-write), which can collide
// with stores through the mapping (checker.cc, rule 6).
bool HasDirectWrites(const Program& program);
bool HasStores(const Program& program);  // stores through the mapping

// An anomaly the target saw besides what the history shows: a model
// assertion (the kernel target has none). Reported as one violation.
struct Anomaly {
  std::string reader;    // who saw it
  std::string observed;
  std::string expected;
  uint32_t file = 0;     // the page it concerns, as its first sector
  uint32_t sector = 0;
  uint64_t stamp = 0;    // the run's clock when it happened; 0: unknown (taken as the end)
};

// What an op came to, as the system under test decided.
struct OpOutcome {
  // The op failed: a write may or may not have taken effect; a read
  // observed nothing.
  bool failed = false;
  // Sectors from the op's first that it covered; the caller sets the op's
  // count. A read stops short at the end of the file; a mapped access (and
  // a write from a mapped buffer) stops at a page at or past it.
  uint32_t done = 0;
  // A mapped access stopped on SIGBUS, at the page holding sector
  // first + done: an outcome, checked against the file's size.
  bool sigbus = false;
  // A collapse or insert: the size it set, where the target knows it
  // (OpRecord::size).
  uint32_t size = OpRecord::kSizeUnknown;
};

class Target {
 public:
  virtual ~Target() = default;

  // Starts a run: files [0, program.files) hold initial[i] (zeros elsewhere).
  virtual Status Reset(const Program& program, std::span<const Backend::Initial> initial) = 0;
  // The run's stamp counter, which the target may read to date an anomaly.
  virtual void SetClock(const std::atomic<uint64_t>* /*clock*/) {}

  // Performs `op` for program thread `thread`: reads fill `buf`, writes take
  // it (op.count sectors); *out says what it came to. An error Status is an
  // environment failure.
  virtual Status Apply(uint32_t thread, const Op& op, uint64_t* buf, OpOutcome* out) = 0;

  // The flusher thread (Program::flusher): at most `passes` passes of
  // write-back, until `threads_done` reaches `threads`. ThreadsDone wakes it.
  virtual Status RunFlusher(size_t passes, const std::atomic<uint32_t>& threads_done, uint32_t threads) = 0;
  virtual void ThreadsDone() = 0;

  // The end-of-run check: pages of `file` to read in `pass` (besides those
  // the program wrote, for kBackend), Settle before kBackend (write back,
  // unmap, evict), and the reads.
  virtual uint64_t FinalPages(FinalPass pass, uint32_t file) = 0;
  virtual Status Settle() = 0;
  // *out as for Apply (its `done` set to the whole range by the caller): the
  // cached pass stops at the end of the file, the mapped one on SIGBUS.
  virtual Status FinalRead(FinalPass pass, uint32_t file, uint32_t page, uint32_t pages, uint64_t* words,
                           OpOutcome* out) = 0;
  // The durable file as an fsync returns: pages [page, page + pages) of
  // `file` read from the storage under the cache. False: the target cannot
  // see its storage (the host kernel's disk), and fsync observes nothing.
  virtual bool DurableRead(uint32_t /*file*/, uint32_t /*page*/, uint32_t /*pages*/, uint64_t* /*words*/) {
    return false;
  }

  // The first anomaly of the run, if any.
  virtual std::optional<Anomaly> TakeAnomaly() { return std::nullopt; }
  // What the oracle must allow for on this target: tearing at byte
  // granularity, folios larger than a page.
  virtual CheckOptions Checking() const = 0;
  // What the target had to do without ("" if nothing).
  virtual std::string Degraded() const = 0;
  // What it runs on, as (key, value) pairs for the soak's header and --json:
  // the backend and io of the model; the kernel release, file system, mount
  // and mount options of the kernel target.
  virtual std::vector<std::pair<std::string, std::string>> Facts() const = 0;
};

}  // namespace pagerace
