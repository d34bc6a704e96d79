// Tests the FUSE target on the host: programs of every op kind, on every
// mount option set and store, run through the kernel's page cache onto
// pagerace's own file system and check clean; the mount is there while the
// target lives and gone, with its directory, after; and a mount whose
// process was killed is swept by the next start. Skipped where FUSE is not
// available (no /dev/fuse, mounting refused).
#include "harness/run/fuse_target.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "harness/base/rng.h"
#include "harness/program/generate.h"
#include "harness/program/text.h"
#include "harness/run/executor.h"
#include "harness/run/temp_dir_testing.h"
#include "harness/run/fuse_server.h"

namespace pagerace {
namespace {

// The pagerace FUSE mounts under `dir`, by mount point.
std::vector<std::string> MountsUnder(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  std::vector<std::string> points;
  for (std::string line; std::getline(in, line);) {
    if (line.find(" - fuse.pagerace ") == std::string::npos) continue;
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    f >> id >> parent >> dev >> root >> point;
    if (point.rfind(dir + "/", 0) == 0) points.push_back(point);
  }
  return points;
}

bool FuseAvailable(const std::string& dir, std::string* why) {
  Result<std::unique_ptr<Target>> t = CreateFuseTarget({.dir = dir});
  if (t.ok()) return true;
  *why = t.status().ToString();
  EXPECT_EQ(t.status().code(), StatusCode::kNotSupported) << *why;
  return false;
}

TEST(FuseTargetTest, EveryOpKindOnEveryMountChecksCleanAndLeavesNothing) {
  TempDir dir("fuse_target_test");
  std::string why;
  if (!FuseAvailable(dir.path(), &why)) GTEST_SKIP() << why;
  Result<Program> p = ParseText(
      "pagerace 1\nfiles 2\nfile-pages 8\nprefill 1\n"
      "thread 0\nwrite f0 s0+16\nread f0 s0+16\npunch f0 s3+6\nread f0 s0+16\nzero f0 s9+4\nload f0 s0+16\n"
      "store f0 s12+10\nfsync f0 s0+1\ndio-write f0 s8+8\ndio-read f0 s0+16\n"
      "thread 1\nwrite-mapped f1 s5+11\nreadahead f1 s0+32\nevict f1 s0+32\nmadvise f1 s0+32\n"
      "readahead2 f1 s16+16\nfdatasync f1 s0+1\nread f1 s0+32\nload f1 s0+32\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  {
    auto exec = Executor::Create({.target = TargetKind::kFuse, .dir = dir.path()});
    ASSERT_TRUE(exec.ok()) << exec.status().ToString();
    Rng rng(7);
    for (uint8_t mount = 0; mount < kFuseMounts; ++mount) {
      for (BackendKind store : {BackendKind::kMemory, BackendKind::kBlockmap}) {
        SCOPED_TRACE(std::string(FuseMountName(mount)) + " on " + BackendName(store));
        Program q = *p;
        q.fuse = mount;
        q.backend = store;
        Result<RunOutcome> out = (*exec)->Run(q);
        ASSERT_TRUE(out.ok()) << out.status().ToString();
        EXPECT_EQ(out->ops, 18u);
        EXPECT_TRUE(out->report.ok()) << out->report.violations.front().ToString();
        // A few generated programs of every kind the target runs by default,
        // one thread each (what concurrent programs find on this target is
        // not yet classified: docs/fuse.md).
        for (int i = 0; i < 4; ++i) {
          Program g = Generate(rng, {.threads = 1, .ops_per_thread = 12});
          g.flusher = 0;
          for (auto& ops : g.threads)
            std::erase_if(ops, [](const Op& op) { return SetsSize(op.kind) || Shifts(op.kind); });
          if (g.op_count() == 0) continue;
          g.fuse = mount;
          g.backend = store;
          Result<RunOutcome> gout = (*exec)->Run(g);
          ASSERT_TRUE(gout.ok()) << gout.status().ToString();
          EXPECT_TRUE(gout->report.ok()) << gout->report.violations.front().ToString() << "\n" << PrintText(g);
        }
      }
    }
    // A mount for each (options, store, io) the programs named.
    EXPECT_GE(MountsUnder(dir.path()).size(), size_t{kFuseMounts} * 2);
  }
  EXPECT_TRUE(MountsUnder(dir.path()).empty());
}

// The pid in a pagerace mount's source ("pagerace:1234").
long ServerPid(const std::string& point) {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.find(" " + point + " ") == std::string::npos) continue;
    const size_t at = line.find("pagerace:");
    if (at != std::string::npos) return std::strtol(line.c_str() + at + 9, nullptr, 10);
  }
  return -1;
}

// Waits up to 10 s for the mounts under `dir` to go; whether they did.
bool MountsGo(const std::string& dir) {
  for (int i = 0; i < 1000 && !MountsUnder(dir).empty(); ++i) usleep(10'000);
  return MountsUnder(dir).empty();
}

TEST(FuseTargetTest, AKilledClientsServerDetachesItsMount) {
  TempDir dir("fuse_target_test");
  std::string why;
  if (!FuseAvailable(dir.path(), &why)) GTEST_SKIP() << why;
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Result<std::unique_ptr<Target>> t = CreateFuseTarget({.dir = dir.path(), .mount = kFuseWritebackCache});
    const char c = t.ok() ? 'y' : 'n';
    (void)!write(ready[1], &c, 1);
    pause();  // until killed
    _exit(0);
  }
  close(ready[1]);
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  ASSERT_EQ(c, 'y');
  ASSERT_EQ(MountsUnder(dir.path()).size(), 1u);
  kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(MountsGo(dir.path()));
  Result<std::unique_ptr<Target>> again = CreateFuseTarget({.dir = dir.path()});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  again->reset();
  EXPECT_TRUE(MountsUnder(dir.path()).empty());
  // The server removed the killed client's private directory as it went.
  for (int i = 0; i < 1000 && dir.Entries() != 0; ++i) usleep(10'000);
  EXPECT_EQ(dir.Entries(), 0u);
}

TEST(FuseTargetTest, AKilledServersMountIsSweptByTheNextStart) {
  TempDir dir("fuse_target_test");
  std::string why;
  if (!FuseAvailable(dir.path(), &why)) GTEST_SKIP() << why;
  Result<std::unique_ptr<Target>> t = CreateFuseTarget({.dir = dir.path()});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const std::vector<std::string> points = MountsUnder(dir.path());
  ASSERT_EQ(points.size(), 1u);
  const long pid = ServerPid(points[0]);
  ASSERT_GT(pid, 0);
  kill(static_cast<pid_t>(pid), SIGKILL);
  for (int i = 0; i < 1000 && kill(static_cast<pid_t>(pid), 0) == 0; ++i) {
    waitpid(static_cast<pid_t>(pid), nullptr, WNOHANG);  // our child: reap it
    usleep(10'000);
  }
  // The sweep is system-wide: a start in another process (a test running
  // beside this one) may have swept the mount already. Either way, after
  // ours nothing is left.
  SweepDeadMounts();
  EXPECT_TRUE(MountsUnder(dir.path()).empty());
  t->reset();  // its files fail to close cleanly; nothing is left either way
}

}  // namespace
}  // namespace pagerace
