// Tests artifacts on disk: written whole under a fresh name each time (never
// over an existing file), loaded back as the same program from text or
// binary, and text errors reported as FILE:LINE:COL.
#include "harness/run/artifact.h"

#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "harness/program/codec.h"

namespace pagerace {
namespace {

class ArtifactTest : public testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/pagerace-artifact-test.XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override { ASSERT_EQ(system(("rm -rf " + dir_).c_str()), 0); }
  std::string dir_;
};

TEST_F(ArtifactTest, NeverOverwritesAndLoadsBack) {
  Program p;
  p.files = 2;
  p.seed = 42;
  p.threads = {{Op{OpKind::kWrite, 1, 3, 5}}, {Op{OpKind::kRead, 0, 0, 8}}};
  Result<std::string> a = WriteArtifact(dir_, "STALE-x", {"first"}, p);
  Result<std::string> b = WriteArtifact(dir_, "STALE-x", {"second"}, p);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, dir_ + "/STALE-x.txt");
  EXPECT_EQ(*b, dir_ + "/STALE-x-1.txt");
  Result<std::string> text = ReadFile(*a);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->rfind("# first\npagerace 1\n", 0), 0u);
  for (const std::string& path : {*a, *b}) {
    Result<Program> loaded = LoadProgram(path);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(*loaded, p);
  }
  // No temp files left beside them.
  FILE* ls = popen(("ls " + dir_ + " | wc -l").c_str(), "r");
  int n = 0;
  ASSERT_EQ(fscanf(ls, "%d", &n), 1);
  pclose(ls);
  EXPECT_EQ(n, 2);
}

TEST_F(ArtifactTest, BinaryLoadsAndTextErrorsNameFileLineColumn) {
  Program p;
  p.threads = {{Op{OpKind::kPunch, 0, 1, 2}}};
  const std::vector<uint8_t> bytes = Encode(p);
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/crash-1", std::string(bytes.begin(), bytes.end())).ok());
  Result<Program> loaded = LoadProgram(dir_ + "/crash-1");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, p);

  ASSERT_TRUE(WriteFileAtomic(dir_ + "/bad.txt", "pagerace 1\nthread 0\nread f9 s0+1\n").ok());
  Result<Program> bad = LoadProgram(dir_ + "/bad.txt");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind(dir_ + "/bad.txt:3:6:", 0), 0u) << bad.status().message();

  EXPECT_EQ(LoadProgram(dir_ + "/missing").status().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace pagerace
