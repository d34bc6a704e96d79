// Tests the kernel target on the host: programs of every op kind run on real
// files under a temp directory and check clean (the oracle's promise on a
// kernel that has the invalidate_lock fix); the end-of-run check reads
// what it should; a SIGBUS in a mapped access is caught, not fatal; the
// host file system is described; the target refuses what it cannot do and
// leaves nothing behind in the directory it was given.
#include "harness/run/kernel_target.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "harness/base/rng.h"
#include "harness/program/generate.h"
#include "harness/program/text.h"
#include "harness/run/executor.h"
#include "harness/run/temp_dir_testing.h"

namespace pagerace {
namespace {

std::unique_ptr<Executor> KernelExecutor(const std::string& dir, IoMode io = IoMode::kPread) {
  auto exec = Executor::Create({.target = TargetKind::kKernel, .io = io, .dir = dir});
  EXPECT_TRUE(exec.ok()) << exec.status().ToString();
  return exec.ok() ? std::move(*exec) : nullptr;
}

TEST(KernelTargetTest, EveryOpKindRunsAndChecksClean) {
  Result<Program> p = ParseText(
      "pagerace 1\nfiles 2\nfile-pages 8\nprefill 1\nflusher 1\n"
      "thread 0\nwrite f0 s0+16\nread f0 s0+16\npunch f0 s3+6\nread f0 s0+16\nzero f0 s9+4\nload f0 s0+16\n"
      "store f0 s12+10\nfsync f0 s0+1\n"
      "thread 1\nwrite-mapped f1 s5+11\nreadahead f1 s0+32\nevict f1 s0+32\nmadvise f1 s0+32\n"
      "readahead2 f1 s16+16\nfdatasync f1 s0+1\nread f1 s0+32\nload f1 s0+32\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  TempDir dir("kernel_target_test");
  for (IoMode io : {IoMode::kPread, IoMode::kUring}) {
    SCOPED_TRACE(IoModeName(io));
    auto exec = KernelExecutor(dir.path(), io);
    ASSERT_NE(exec, nullptr);
    Result<RunOutcome> out = exec->Run(*p);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->ops, 16u);
    EXPECT_TRUE(out->report.ok()) << out->report.violations.front().ToString();
    // What the ops saw: thread 0's second read has zeros where it punched,
    // the tags of its write elsewhere; thread 1's read sees its own write.
    std::set<uint16_t> passes;
    uint64_t mapped_gen = 0;
    for (const OpRecord& r : out->history)
      if (r.thread == 1 && r.kind == OpKind::kWriteMapped) mapped_gen = r.gen;
    ASSERT_GT(mapped_gen, kPrefillGen);
    for (const OpRecord& r : out->history) {
      if (r.thread == kFinalThread) passes.insert(r.index);
      if (r.thread == 0 && r.index == 3) {
        ASSERT_EQ(r.observed.size(), 16u);
        for (uint32_t s = 0; s < 16; ++s)
          EXPECT_EQ(r.observed[s].kind, s >= 3 && s < 9 ? SectorTag::kZero : SectorTag::kWhole) << s;
      }
      if (r.thread == 1 && r.kind == OpKind::kRead) {
        ASSERT_EQ(r.observed.size(), 32u);
        EXPECT_EQ(r.observed[5].kind, SectorTag::kWhole);
        EXPECT_EQ(r.observed[5].gen, mapped_gen);
        EXPECT_EQ(r.observed[4].gen, kPrefillGen);
      }
    }
    // The backend pass always runs; the cached pass read what mincore showed.
    EXPECT_TRUE(passes.count(static_cast<uint16_t>(FinalPass::kBackend)));
    EXPECT_TRUE(passes.count(static_cast<uint16_t>(FinalPass::kCached)));
    EXPECT_FALSE(exec->Facts().empty());
  }
  EXPECT_EQ(dir.Entries(), 0u) << "the target removed its private directory";
}

// Runs a program given as text once on the host kernel, in a directory of
// its own; nullopt (with the failure recorded) if it could not run.
std::optional<RunOutcome> RunOnHost(const char* text) {
  Result<Program> p = ParseText(text);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  if (!p.ok()) return std::nullopt;
  TempDir dir("kernel_target_test");
  auto exec = KernelExecutor(dir.path());
  EXPECT_NE(exec, nullptr);
  if (exec == nullptr) return std::nullopt;
  Result<RunOutcome> out = exec->Run(*p);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  if (!out.ok()) return std::nullopt;
  return std::move(*out);
}

// ftruncate on the host: a read stops at the size, a load past the last
// page gets SIGBUS (recorded, not an error), and growing the file shows
// zeros; the oracle agrees with every length and SIGBUS.
TEST(KernelTargetTest, TruncateShortReadsAndSigbusAreOutcomes) {
#ifdef PAGERACE_TSAN
  GTEST_SKIP() << "ThreadSanitizer takes a SIGBUS as fatal before a user handler runs";
#endif
  std::optional<RunOutcome> out = RunOnHost(
      "pagerace 1\nfile-pages 4\nprefill 1\n"
      "thread 0\ntruncate f0 s12\nread f0 s8+16\nload f0 s8+16\ntruncate f0 s32\nread f0 s8+16\n");
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->report.ok()) << out->report.violations.front().ToString();
  std::vector<const OpRecord*> ops;
  for (const OpRecord& r : out->history)
    if (r.thread == 0) ops.push_back(&r);
  ASSERT_EQ(ops.size(), 5u);
  EXPECT_EQ(ops[1]->Reached(), 4u);  // sectors 8-11
  EXPECT_EQ(ops[2]->Reached(), 8u);  // page 1, then SIGBUS on page 2
  EXPECT_TRUE(ops[2]->sigbus);
  ASSERT_EQ(ops[4]->observed.size(), 16u);
  EXPECT_EQ(ops[4]->observed[3].gen, kPrefillGen);
  EXPECT_EQ(ops[4]->observed[4].kind, SectorTag::kZero);
}

// A store past the end of the file, in its last page, then a direct write
// that grows the file past that page: ext4 (and tmpfs, for any growth)
// leaves the store in the page, and it becomes the file's data. POSIX
// leaves that unspecified, and the oracle allows it on the host, as it
// allows the zeros that xfs and btrfs put there.
TEST(KernelTargetTest, AStorePastTheEndMayStayWhenTheFileGrows) {
#ifdef PAGERACE_TSAN
  GTEST_SKIP() << "ThreadSanitizer takes a SIGBUS as fatal before a user handler runs";
#endif
  std::optional<RunOutcome> out = RunOnHost(
      "pagerace 1\nfile-pages 7\nprefill 1\n"
      "thread 0\ntruncate f0 s26\nwrite f0 s21+16\nstore f0 s32+10\ndio-write f0 s40+16\nread f0 s32+8\n");
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->report.ok()) << out->report.violations.front().ToString();
  for (const OpRecord& r : out->history) {
    if (r.thread != 0 || r.kind != OpKind::kStore) continue;
    EXPECT_EQ(r.Reached(), 8u);  // page 4, then SIGBUS on page 5
    EXPECT_TRUE(r.sigbus);
  }
}

// Collapse and insert on the host: the data from the range on moves down or
// up by whole pages, as the kernel does; a collapse that reaches the end of
// the file is refused (EINVAL) and moves nothing. On a file system without
// them (tmpfs, btrfs) every shift is refused, with one notice. The next run
// starts clean: a collapse brings down no data an insert moved past the
// program's pages in the run before.
TEST(KernelTargetTest, CollapseAndInsertMoveWholePages) {
  constexpr uint32_t kPages = kFilePagesMax;
  constexpr size_t kPageWords = kPageBytes / 8;
  Result<Program> p = ParseText("pagerace 1\nfile-pages " + std::to_string(kPages) +
                                "\nthread 0\ncollapse f0 s8+8\ninsert f0 s0+8\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  // Page i holds 0x1000 + i in every word.
  std::vector<uint64_t> words(size_t{kPages} * kPageWords);
  for (uint32_t i = 0; i < kPages; ++i) std::fill_n(words.begin() + size_t{i} * kPageWords, kPageWords, 0x1000 + i);
  const Backend::Initial prefilled{0, kPages, words.data()};
  TempDir dir("kernel_target_test");
  {
    Result<std::unique_ptr<Target>> target = CreateKernelTarget({.dir = dir.path()});
    ASSERT_TRUE(target.ok()) << target.status().ToString();
    Target& t = **target;
    // Page i's first word, read through the file (0: a hole or past the end).
    auto first_words = [&](uint32_t pages) {
      std::vector<uint64_t> buf(size_t{pages} * kPageWords + 1);
      OpOutcome out;
      Op read{.kind = OpKind::kRead, .sector = 0, .count = static_cast<uint16_t>(pages * kSectorsPerPage)};
      EXPECT_TRUE(t.Apply(0, read, buf.data(), &out).ok());
      std::vector<uint64_t> firsts;
      for (uint32_t i = 0; i < pages; ++i) firsts.push_back(buf[size_t{i} * kPageWords]);
      return firsts;
    };
    auto apply = [&](OpKind kind, uint32_t sector, uint32_t count) {
      OpOutcome out;
      Op op{.kind = kind, .sector = static_cast<uint16_t>(sector), .count = static_cast<uint16_t>(count)};
      Status st = t.Apply(0, op, nullptr, &out);
      EXPECT_TRUE(st.ok()) << st.ToString();
      return out;
    };

    ASSERT_TRUE(t.Reset(*p, {&prefilled, 1}).ok());
    const OpOutcome collapse = apply(OpKind::kCollapse, 8, 8);  // page 1 goes, 2 and on move down
    const OpOutcome insert = apply(OpKind::kInsert, 0, 8);      // a hole at page 0, the rest moves up
    if (collapse.failed) {
      EXPECT_TRUE(insert.failed);
      EXPECT_NE(t.Degraded().find("refuses FALLOC_FL_COLLAPSE_RANGE: collapse and insert are skipped"),
                std::string::npos)
          << t.Degraded();
      EXPECT_EQ(first_words(4), (std::vector<uint64_t>{0x1000, 0x1001, 0x1002, 0x1003}));
      return;
    }
    ASSERT_FALSE(insert.failed);
    EXPECT_EQ(t.Degraded().find("FALLOC_FL_"), std::string::npos) << t.Degraded();
    EXPECT_EQ(first_words(4), (std::vector<uint64_t>{0, 0x1000, 0x1002, 0x1003}));
    EXPECT_EQ(first_words(kPages).back(), 0x1000 + kPages - 1);  // collapsed, inserted: back where it was

    // The kernel's refusal: a collapse whose range reaches the end.
    apply(OpKind::kTruncate, 2 * kSectorsPerPage, 1);
    EXPECT_TRUE(apply(OpKind::kCollapse, 8, 8).failed);
    EXPECT_EQ(first_words(2), (std::vector<uint64_t>{0, 0x1000}));

    // An insert moves the last program page past the program's pages; the
    // next run (all zeros) collapses it back down, and it must not be there.
    ASSERT_TRUE(t.Reset(*p, {&prefilled, 1}).ok());
    EXPECT_FALSE(apply(OpKind::kInsert, 0, 8).failed);
    ASSERT_TRUE(t.Reset(*p, {}).ok());
    EXPECT_FALSE(apply(OpKind::kCollapse, 0, 8).failed);
    const std::vector<uint64_t> after = first_words(kPages);
    EXPECT_EQ(static_cast<size_t>(std::count(after.begin(), after.end(), 0u)), size_t{kPages})
        << "page " << kPages - 1 << ": " << after.back();
  }
  EXPECT_EQ(dir.Entries(), 0u);
}

TEST(KernelTargetTest, GeneratedProgramsCheckClean) {
  TempDir dir("kernel_target_test");
  auto exec = KernelExecutor(dir.path());
  ASSERT_NE(exec, nullptr);
  Rng rng(20261125);
  for (int i = 0; i < 200; ++i) {
    // Without size ops (truncate, collapse, insert), as the kernel soak runs
    // by default (target.h).
    Swarm swarm = DrawSwarm(rng);
    for (OpKind kind : {OpKind::kTruncate, OpKind::kCollapse, OpKind::kInsert})
      swarm.weight[static_cast<size_t>(kind)] = 0;
    const Program p = Generate(rng, {4, 16}, swarm);
    Result<RunOutcome> out = exec->Run(p);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_TRUE(out->report.ok()) << out->report.violations.front().ToString() << "\n" << PrintText(p);
  }
}

TEST(KernelTargetTest, ThreadsJoinedPerRunWhenAsked) {
  TempDir dir("kernel_target_test");
  auto exec = Executor::Create({.target = TargetKind::kKernel, .dir = dir.path(), .join_threads = true});
  ASSERT_TRUE(exec.ok()) << exec.status().ToString();
  Rng rng(7);
  for (int i = 0; i < 20; ++i) {
    Result<RunOutcome> out = (*exec)->Run(Generate(rng, {3, 8}));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_TRUE(out->report.ok()) << out->report.violations.front().ToString();
  }
}

TEST(KernelTargetTest, RefusesMutantsAndControlledSchedules) {
  TempDir dir("kernel_target_test");
  auto mutant = Executor::Create(
      {.target = TargetKind::kKernel, .dir = dir.path(), .mutant = Mutant::kNoInvalidateLockRead});
  ASSERT_FALSE(mutant.ok());
  EXPECT_EQ(mutant.status().code(), StatusCode::kInvalidArgument);
  auto controlled =
      Executor::Create({.target = TargetKind::kKernel, .dir = dir.path(), .schedule = Schedule::kControlled});
  ASSERT_FALSE(controlled.ok());
  EXPECT_EQ(controlled.status().code(), StatusCode::kInvalidArgument);
}

#if defined(__SANITIZE_THREAD__)
#define PAGERACE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PAGERACE_TSAN 1
#endif
#endif

TEST(KernelTargetTest, SigbusInAMappedAccessIsCaught) {
#ifdef PAGERACE_TSAN
  GTEST_SKIP() << "ThreadSanitizer takes a SIGBUS as fatal before a user handler runs";
#endif
  TempDir dir("kernel_target_test");
  const std::string path = dir.path() + "/f";
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 2 * kPageBytes), 0);
  void* map = mmap(nullptr, 2 * kPageBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ASSERT_NE(map, MAP_FAILED);
  ASSERT_EQ(ftruncate(fd, kPageBytes), 0);  // page 1 is now past the end of the file
  const auto* words = static_cast<const uint64_t*>(map);
  uint64_t buf[kPageBytes / 8] = {};
  uintptr_t fault = 0;
  EXPECT_TRUE(GuardedCopy(buf, words, kPageBytes / 8, &fault));
  EXPECT_FALSE(GuardedCopy(buf, words + kPageBytes / 8, kPageBytes / 8, &fault));
  EXPECT_EQ(fault, reinterpret_cast<uintptr_t>(map) + kPageBytes);
  // A store past the end, too, and the process goes on.
  EXPECT_FALSE(GuardedCopy(static_cast<uint64_t*>(map) + kPageBytes / 8, buf, 1, &fault));
  EXPECT_TRUE(GuardedCopy(buf, words, 1, &fault));
  munmap(map, 2 * kPageBytes);
  close(fd);
  unlink(path.c_str());
}

TEST(KernelTargetTest, DescribesTheHostFileSystem) {
  TempDir dir("kernel_target_test");
  Result<HostFs> fs = DescribeHostFs(dir.path());
  ASSERT_TRUE(fs.ok()) << fs.status().ToString();
  EXPECT_FALSE(fs->release.empty());
  EXPECT_NE(fs->type, "unknown");
  EXPECT_FALSE(fs->mount_options.empty());
  char* real = realpath(dir.path().c_str(), nullptr);
  ASSERT_NE(real, nullptr);
  EXPECT_EQ(std::string(real).rfind(fs->mount_point, 0), 0u) << real << " under " << fs->mount_point;
  std::free(real);
  EXPECT_FALSE(DescribeHostFs(dir.path() + "/no-such-file").ok());
}

}  // namespace
}  // namespace pagerace
