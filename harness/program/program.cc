#include "harness/program/program.h"

#include <array>

namespace pagerace {
namespace {

constexpr std::array<OpInfo, kOpKinds> kOps = {{
    {OpKind::kRead, "read", "pread(2) of the sectors through the page cache", 6},
    {OpKind::kWrite, "write", "buffered pwrite(2) of generation-tagged sectors", 4},
    {OpKind::kPunch, "punch", "fallocate(PUNCH_HOLE|KEEP_SIZE) of the sectors", 2},
    {OpKind::kReadahead, "readahead", "posix_fadvise(WILLNEED): force readahead of the pages", 2},
    {OpKind::kEvict, "evict", "posix_fadvise(DONTNEED): write back, drop clean pages", 1},
    {OpKind::kLoad, "load", "loads through a shared mapping (read faults, fault-around, fault readahead)", 4},
    {OpKind::kStore, "store", "stores of generation-tagged sectors through a shared mapping (write faults, page_mkwrite)", 3},
    {OpKind::kFsync, "fsync", "fsync(2): write back the file's dirty pages and wait", 1},
    {OpKind::kMadvise, "madvise", "madvise(MADV_WILLNEED) on the mapping: force readahead of the pages", 1},
    {OpKind::kSysReadahead, "readahead2", "readahead(2): force readahead of the pages", 1},
    {OpKind::kWriteMapped, "write-mapped", "pwrite(2) from a buffer that maps the same range (prefaults it under i_rwsem)", 1},
    {OpKind::kZeroRange, "zero", "fallocate(ZERO_RANGE|KEEP_SIZE) of the sectors (the model: as punch)", 1},
    {OpKind::kFdatasync, "fdatasync", "fdatasync(2) (the model: as fsync)", 1},
    {OpKind::kTruncate, "truncate", "ftruncate(2) to the size in sectors ('s<size>'), shrinking or extending", 1},
    {OpKind::kDioRead, "dio-read", "pread(2) with O_DIRECT: writes the range back, then reads the storage (whole pages)", 1},
    {OpKind::kDioWrite, "dio-write", "pwrite(2) with O_DIRECT: writes back and invalidates the cached range around the I/O (whole pages)", 1},
    {OpKind::kCollapse, "collapse", "fallocate(COLLAPSE_RANGE): removes the range, the data after it moves down (whole pages)", 1},
    {OpKind::kInsert, "insert", "fallocate(INSERT_RANGE): inserts a hole at the range, the data from it moves up (whole pages)", 1},
}};

constexpr std::array<const char*, kStrategies> kStrategyNames = {"random", "pct", "directed"};
constexpr std::array<const char*, kBackendKinds> kBackendNames = {"memory", "file", "blockmap"};
constexpr std::array<const char*, kIoModes> kIoModeNames = {"pread", "uring"};
constexpr std::array<const char*, kPointsKinds> kPointsNames = {"every", "windows"};
constexpr std::array<const char*, kFuseMounts> kFuseMountNames = {
    "none",
    "writeback_cache",
    "auto_inval_data",
    "writeback_cache,auto_inval_data",
    "max_read=4096",
    "writeback_cache,max_read=4096",
    "auto_inval_data,max_read=4096",
    "writeback_cache,auto_inval_data,max_read=4096",
};

// The enum whose names are `names`, by name.
template <typename Enum, size_t N>
std::optional<Enum> FromName(const std::array<const char*, N>& names, std::string_view name) {
  for (size_t i = 0; i < N; ++i)
    if (name == names[i]) return static_cast<Enum>(i);
  return std::nullopt;
}

}  // namespace

const char* StrategyName(Strategy strategy) { return kStrategyNames[static_cast<size_t>(strategy)]; }

std::optional<Strategy> StrategyFromName(std::string_view name) { return FromName<Strategy>(kStrategyNames, name); }

const char* BackendName(BackendKind kind) { return kBackendNames[static_cast<size_t>(kind)]; }

std::optional<BackendKind> BackendFromName(std::string_view name) {
  return FromName<BackendKind>(kBackendNames, name);
}

const char* IoModeName(IoMode mode) { return kIoModeNames[static_cast<size_t>(mode)]; }

std::optional<IoMode> IoModeFromName(std::string_view name) { return FromName<IoMode>(kIoModeNames, name); }

const char* PointsName(Points points) { return kPointsNames[static_cast<size_t>(points)]; }

std::optional<Points> PointsFromName(std::string_view name) { return FromName<Points>(kPointsNames, name); }

const char* FuseMountName(uint8_t mount) { return kFuseMountNames[mount % kFuseMounts]; }

std::optional<uint8_t> FuseMountFromName(std::string_view name) { return FromName<uint8_t>(kFuseMountNames, name); }

std::span<const OpInfo> OpTable() { return kOps; }

const OpInfo& InfoOf(OpKind kind) { return kOps[static_cast<size_t>(kind)]; }

std::optional<OpKind> OpKindFromName(std::string_view name) {
  for (const OpInfo& info : kOps)
    if (name == info.name) return info.kind;
  return std::nullopt;
}

std::string OpOperands(OpKind kind, uint32_t file, uint32_t sector, uint32_t count) {
  std::string s = "f" + std::to_string(file) + " s" + std::to_string(sector);
  return SetsSize(kind) ? s : s + "+" + std::to_string(count);
}

size_t Program::op_count() const {
  size_t n = 0;
  for (const auto& t : threads) n += t.size();
  return n;
}

Status Validate(const Program& p) {
  auto bad = [](const std::string& m) { return Status::InvalidArgument(m); };
  if (p.files < 1 || p.files > kFilesMax) return bad("files must be in [1, 4]");
  if (p.file_pages < 1 || p.file_pages > kFilePagesMax) return bad("file-pages must be in [1, 64]");
  if (p.ra_pages > kRaPagesMax) return bad("ra-pages must be in [0, 16]");
  if (p.ra_fail > kRaFailMax) return bad("ra-fail must be in [0, 3]");
  if (p.prefill > kPrefillMax) return bad("prefill must be 0 or 1");
  if (p.flusher > kFlusherMax) return bad("flusher must be 0 or 1");
  if (static_cast<uint32_t>(p.backend) >= kBackendKinds) return bad("unknown backend");
  if (static_cast<uint32_t>(p.io) >= kIoModes) return bad("unknown io mode");
  if (static_cast<uint32_t>(p.points) >= kPointsKinds) return bad("unknown points");
  if (p.fuse >= kFuseMounts) return bad("unknown fuse mount options");
  if (p.threads.empty() || p.threads.size() > kThreadsMax) return bad("threads must be in [1, 8]");
  if (p.op_count() > kOpsMax) return bad("at most 256 ops in all");
  const ScheduleSpec& sc = p.schedule;
  if (static_cast<uint32_t>(sc.strategy) >= kStrategies) return bad("unknown schedule strategy");
  if (sc.pct_depth < 1 || sc.pct_depth > kPctDepthMax) return bad("pct-depth must be in [1, 8]");
  if (sc.preemptions.size() > kPreemptionsMax) return bad("at most 32 preemptions");
  if (!sc.preemptions.empty() && sc.strategy != Strategy::kDirected)
    return bad("preemptions need the directed schedule");
  for (size_t i = 0; i < sc.preemptions.size(); ++i) {
    if (sc.preemptions[i].thread >= p.logical_threads()) return bad("preemption to a thread that does not exist");
    if (i > 0 && sc.preemptions[i].step < sc.preemptions[i - 1].step)
      return bad("preemptions must be in step order");
  }
  for (size_t t = 0; t < p.threads.size(); ++t) {
    for (size_t i = 0; i < p.threads[t].size(); ++i) {
      const Op& op = p.threads[t][i];
      // The message is made only for a bad op: Validate runs before every run.
      auto bad_op = [&](const char* what) {
        return bad("thread " + std::to_string(t) + " op " + std::to_string(i) + ": " + what);
      };
      if (static_cast<uint32_t>(op.kind) >= kOpKinds) return bad_op("unknown op kind");
      if (op.file >= p.files) return bad_op("file out of range");
      if (SetsSize(op.kind)) {
        if (op.sector > p.file_sectors()) return bad_op("size out of range");
        if (op.count != 1) return bad_op("a size op's count must be 1");
        continue;
      }
      if (op.sector >= p.file_sectors()) return bad_op("sector out of range");
      if (op.count < 1 || op.count > kOpSectorsMax || op.sector + op.count > p.file_sectors())
        return bad_op("sector count out of range");
      if (WholePages(op.kind) && (op.sector % kSectorsPerPage != 0 || op.count % kSectorsPerPage != 0))
        return bad_op(Direct(op.kind) ? "a direct op covers whole pages" : "a collapse or insert covers whole pages");
    }
  }
  return Status::Ok();
}

}  // namespace pagerace
