// Programs: what a run executes. A Program is a set of threads, each a list of
// operations on sector ranges of a few model files, plus everything else that
// can change a verdict: the knobs that shape the cache (readahead window,
// readahead fail-fast), the backend the files live on and how its data moves,
// and the seed and schedule that drive scheduling. Plain values: copy freely,
// no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/base/status.h"

namespace pagerace {

inline constexpr uint32_t kSectorBytes = 512;
inline constexpr uint32_t kPageBytes = 4096;
inline constexpr uint32_t kSectorsPerPage = kPageBytes / kSectorBytes;

inline constexpr uint32_t kThreadsMax = 8;
inline constexpr uint32_t kFilesMax = 4;
inline constexpr uint32_t kFilePagesMax = 64;
inline constexpr uint32_t kRaPagesMax = 16;
inline constexpr uint32_t kRaFailMax = 3;       // fail-fast rate in quarters
inline constexpr uint32_t kPrefillMax = 1;
inline constexpr uint32_t kFlusherMax = 1;
inline constexpr uint32_t kOpsMax = 256;        // all threads together
inline constexpr uint32_t kOpSectorsMax = 128;  // one op's length

// The operation kinds. The names in the table below are used by the text
// format, traces, stats and the CLI; never spell them elsewhere.
enum class OpKind : uint8_t {
  kRead,       // pread(2) through the page cache
  kWrite,      // pwrite(2) of generation-tagged sectors (buffered)
  kPunch,      // fallocate(PUNCH_HOLE|KEEP_SIZE)
  kReadahead,  // posix_fadvise(WILLNEED): force readahead of the range
  kEvict,      // posix_fadvise(DONTNEED): write back, drop clean pages
  kLoad,       // loads through a shared mapping of the file (read faults)
  kStore,      // stores of generation-tagged sectors through the mapping (write faults, page_mkwrite)
  kFsync,      // fsync(2): write back the file's dirty pages and wait
  kMadvise,    // madvise(MADV_WILLNEED) on the mapping: forced readahead
  kSysReadahead,  // readahead(2): forced readahead
  kWriteMapped,   // pwrite(2) from a buffer that is a shared mapping of the same range
  kZeroRange,     // fallocate(ZERO_RANGE|KEEP_SIZE)
  kFdatasync,     // fdatasync(2)
  kTruncate,      // ftruncate(2) to `sector` sectors, shrinking or extending (see Op)
  kDioRead,       // pread(2) on an O_DIRECT descriptor: page-aligned (see Op)
  kDioWrite,      // pwrite(2) of generation-tagged sectors on an O_DIRECT descriptor: page-aligned
  kCollapse,      // fallocate(COLLAPSE_RANGE): remove the range, the rest of the file moves down (whole pages)
  kInsert,        // fallocate(INSERT_RANGE): a hole at the range, the rest of the file moves up (whole pages)
  kMaxValue = kInsert,
};
inline constexpr uint32_t kOpKinds = static_cast<uint32_t>(OpKind::kMaxValue) + 1;

struct OpInfo {
  OpKind kind;
  const char* name;
  const char* help;
  uint32_t default_weight;  // relative weight when programs are generated
};

// The op table, indexed by OpKind.
std::span<const OpInfo> OpTable();
const OpInfo& InfoOf(OpKind kind);
std::optional<OpKind> OpKindFromName(std::string_view name);

// How the controlled scheduler picks the next thread (sched/controller.h).
// The names in the table below are used by the text format and the CLI.
enum class Strategy : uint8_t {
  kRandom,    // uniformly among runnable threads, from the seed
  kPct,       // PCT with depth pct_depth, from the seed
  kDirected,  // non-preemptive except at the listed preemptions
  kMaxValue = kDirected,
};
inline constexpr uint32_t kStrategies = static_cast<uint32_t>(Strategy::kMaxValue) + 1;
const char* StrategyName(Strategy strategy);
std::optional<Strategy> StrategyFromName(std::string_view name);

// The backends the model's files can live on (backend/backend.h makes them).
// The names in the table below are used by the text format, the CLI and the
// environment.
enum class BackendKind : uint8_t {
  kMemory,    // in memory: no system call per I/O (fuzzing throughput)
  kFile,      // real files, one per model file: what memory does, through the host
  kBlockmap,  // one real file shared through block maps; freed blocks are reused
              // at once, so stale data reads as another file's (FOREIGN)
  kMaxValue = kBlockmap,
};
inline constexpr uint32_t kBackendKinds = static_cast<uint32_t>(BackendKind::kMaxValue) + 1;
const char* BackendName(BackendKind kind);
std::optional<BackendKind> BackendFromName(std::string_view name);

// How the file and blockmap backends move page data; the memory backend has
// nothing to move and ignores it. Names as for BackendKind.
enum class IoMode : uint8_t {
  kPread,  // pread(2)/pwrite(2)
  kUring,  // io_uring (liburing): each transfer submitted to a ring and reaped;
           // pread/pwrite when the kernel refuses to set a ring up (e.g. EPERM
           // under a container's seccomp profile), said once by Degraded()
  kMaxValue = kUring,
};
inline constexpr uint32_t kIoModes = static_cast<uint32_t>(IoMode::kMaxValue) + 1;
const char* IoModeName(IoMode mode);
std::optional<IoMode> IoModeFromName(std::string_view name);

// Where the controlled scheduler may switch threads (sched/sched.h), a knob
// each program carries so that the fuzzer and the generator draw both:
// every transition another thread can observe (full reach: every
// interleaving real threads can produce), or the named race windows, locks,
// waits and op boundaries only (far fewer decisions: a random or PCT
// schedule lands in a known window sooner). Real threads pause for jitter at
// the same points. Names as for BackendKind.
enum class Points : uint8_t {
  kEvery,    // a point before every observable transition (Point::kState too)
  kWindows,  // the named points only
  kMaxValue = kWindows,
};
inline constexpr uint32_t kPointsKinds = static_cast<uint32_t>(Points::kMaxValue) + 1;
const char* PointsName(Points points);
std::optional<Points> PointsFromName(std::string_view name);

// The FUSE target's mount (run/fuse_target.h), a knob each program carries
// so that the swarm draws it and the artifact records it; other targets
// ignore it. A set of three options, one bit each; the name of a set is its
// options in this order, joined by commas, or "none".
//   writeback_cache  the kernel caches writes and writes them back (FUSE_CAP_WRITEBACK_CACHE)
//   auto_inval_data  the kernel drops the file's cache when the server's
//                    mtime or size changes (FUSE_CAP_AUTO_INVAL_DATA)
//   max_read=4096    a READ request carries one page at most (-o max_read)
inline constexpr uint8_t kFuseWritebackCache = 1, kFuseAutoInvalData = 2, kFuseMaxRead4k = 4;
inline constexpr uint32_t kFuseMounts = 8;
const char* FuseMountName(uint8_t mount);
std::optional<uint8_t> FuseMountFromName(std::string_view name);

inline constexpr uint32_t kPctDepthMax = 8;
inline constexpr uint32_t kPreemptionsMax = 32;
inline constexpr uint32_t kPreemptStepMax = 65535;

// Directed: at scheduling step `step` (0-based), run `thread` if it can run.
struct Preemption {
  uint16_t step = 0;
  uint8_t thread = 0;  // [0, logical_threads()): the flusher, if any, is the last
  bool operator==(const Preemption&) const = default;
};

struct ScheduleSpec {
  Strategy strategy = Strategy::kRandom;
  uint8_t pct_depth = 3;                 // [1, kPctDepthMax]
  std::vector<Preemption> preemptions;   // directed only; by step, at most kPreemptionsMax
  bool operator==(const ScheduleSpec&) const = default;
};

// An op on sectors [sector, sector + count) of a file. A size op
// (SetsSize) has no range: `sector` is the size it sets, [0, file_sectors],
// and count is 1. A direct op (Direct) and a collapse or insert (Shifts)
// cover whole pages (WholePages): sector and count are multiples of
// kSectorsPerPage, as O_DIRECT and the shifts need their offset and length
// aligned to the file system's block.
struct Op {
  OpKind kind = OpKind::kRead;
  uint8_t file = 0;        // [0, files)
  uint16_t sector = 0;     // first sector, [0, file_sectors); a size op: the size
  uint16_t count = 1;      // sectors, [1, min(kOpSectorsMax, file_sectors - sector)]; a size op: 1
  bool operator==(const Op&) const = default;
};

// Whether ops of this kind set the file's size (Op says how they are read).
inline bool SetsSize(OpKind kind) { return kind == OpKind::kTruncate; }
// Whether ops of this kind bypass the page cache (O_DIRECT): whole pages only.
inline bool Direct(OpKind kind) { return kind == OpKind::kDioRead || kind == OpKind::kDioWrite; }
// Whether ops of this kind move the file's data from the range's start on
// (collapse, insert): whole pages only.
inline bool Shifts(OpKind kind) { return kind == OpKind::kCollapse || kind == OpKind::kInsert; }
// Whether an op's range must be whole pages (Op).
inline bool WholePages(OpKind kind) { return Direct(kind) || Shifts(kind); }

// An op's operands as the text format and traces spell them: "f0 s8+16", or
// "f0 s40" for a size op.
std::string OpOperands(OpKind kind, uint32_t file, uint32_t sector, uint32_t count);
inline std::string OpOperands(const Op& op) { return OpOperands(op.kind, op.file, op.sector, op.count); }

struct Program {
  uint8_t files = 1;        // [1, kFilesMax]
  uint16_t file_pages = 16; // [1, kFilePagesMax]
  uint8_t ra_pages = 4;     // [0, kRaPagesMax]: sync readahead window on a read miss; 0 = none
  uint8_t ra_fail = 0;      // [0, kRaFailMax]: share (in quarters) of readahead I/O that fails fast
  uint8_t prefill = 0;      // [0, kPrefillMax]: 1 = files start full of tagged data (generation 1), 0 = zeros
  uint8_t flusher = 0;      // [0, kFlusherMax]: 1 = a flusher thread writes back dirty pages as they appear
  // Memory and pread unless the program says otherwise: what programs from
  // before these fields existed were run on by the fuzz target.
  BackendKind backend = BackendKind::kMemory;
  IoMode io = IoMode::kPread;
  Points points = Points::kEvery;  // every point unless the program says otherwise
  uint8_t fuse = 0;         // [0, kFuseMounts): the FUSE target's mount options (kFuse* bits)
  uint64_t seed = 0;        // scheduling (jitter; random and PCT schedules) is drawn from it
  ScheduleSpec schedule;    // the controlled scheduler's strategy
  std::vector<std::vector<Op>> threads = {{}};  // [1, kThreadsMax] threads

  uint32_t file_sectors() const { return uint32_t{file_pages} * kSectorsPerPage; }
  uint32_t logical_threads() const { return static_cast<uint32_t>(threads.size()) + flusher; }
  size_t op_count() const;
  bool operator==(const Program&) const = default;
};

// OK iff every field and op is within the bounds documented above.
Status Validate(const Program& program);

}  // namespace pagerace
