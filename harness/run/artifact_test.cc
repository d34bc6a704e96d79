// Tests artifacts on disk: written whole under a fresh name each time (never
// over an existing file), loaded back as the same program from text or
// binary, text errors reported as FILE:LINE:COL, and a write that fails
// says where and why. And the loader: a file means one thing or is refused
// (a byte order mark is skipped; an empty file, a misspelled header and a
// file that is neither text nor a binary program with the magic are errors),
// --raw decodes any file as the fuzz targets do, and input past the size
// limit is refused, also from a device that never ends.
#include "harness/run/artifact.h"

#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "harness/base/rng.h"
#include "harness/program/codec.h"
#include "harness/program/text.h"

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
  const std::vector<uint8_t> bytes = EncodeFile(p);
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/p.bin", std::string(bytes.begin(), bytes.end())).ok());
  Result<Program> loaded = LoadProgram(dir_ + "/p.bin");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, p);

  ASSERT_TRUE(WriteFileAtomic(dir_ + "/bad.txt", "pagerace 1\nthread 0\nread f9 s0+1\n").ok());
  Result<Program> bad = LoadProgram(dir_ + "/bad.txt");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind(dir_ + "/bad.txt:3:6:", 0), 0u) << bad.status().message();

  EXPECT_EQ(LoadProgram(dir_ + "/missing").status().code(), StatusCode::kIoError);
}

// A program file means one thing or is refused; the fixtures below write
// `content` to dir_/NAME and load it.
class ArtifactLoadTest : public ArtifactTest {
 protected:
  Result<Program> Load(const std::string& name, const std::string& content, FileKind kind = FileKind::kProgram) {
    EXPECT_TRUE(WriteFileAtomic(dir_ + "/" + name, content).ok());
    return LoadProgram(dir_ + "/" + name, kind);
  }
  // The error message, or "" if it loaded.
  std::string Error(const std::string& name, const std::string& content, FileKind kind = FileKind::kProgram) {
    Result<Program> r = Load(name, content, kind);
    if (r.ok()) return "";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    return r.status().message();
  }
  static Program TwoThreads() {
    Program p;
    p.files = 2;
    p.seed = 7;
    p.threads = {{Op{OpKind::kWrite, 1, 3, 5}}, {Op{OpKind::kRead, 0, 0, 8}}};
    return p;
  }
  static std::string Bytes(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }
};

TEST_F(ArtifactLoadTest, ByteOrderMarkIsSkipped) {
  Result<Program> r = Load("bom.txt", "\xef\xbb\xbf# found by hand\r\n" + PrintText(TwoThreads()));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, TwoThreads());
}

TEST_F(ArtifactLoadTest, EmptyFileIsAnError) {
  EXPECT_EQ(Error("empty", ""), dir_ + "/empty: empty file: not a pagerace program");
  EXPECT_EQ(Error("empty-raw", "", FileKind::kFuzzerInput), dir_ + "/empty-raw: empty file: not a pagerace program");
}

TEST_F(ArtifactLoadTest, MisspelledHeaderIsATextError) {
  // Each was once decoded as a binary program: another program ran.
  EXPECT_EQ(Error("cap.txt", "Pagerace 1\nthread 0\n"),
            dir_ + "/cap.txt:1:1: expected 'pagerace 1' first, got 'Pagerace'");
  EXPECT_EQ(Error("bom-cap.txt", "\xef\xbb\xbfPAGERACE 1\n"),
            dir_ + "/bom-cap.txt:1:1: expected 'pagerace 1' first, got 'PAGERACE'");
  EXPECT_EQ(Error("v2.txt", "# a comment\n\n  pagerace 2\nthread 0\n"),
            dir_ + "/v2.txt:3:12: unsupported format version '2' (expected 1)");
  EXPECT_EQ(Error("r.txt", "pageracer 1\n"), dir_ + "/r.txt:1:1: expected 'pagerace 1' first, got 'pageracer'");
}

TEST_F(ArtifactLoadTest, NeitherTextNorMagicIsAnError) {
  const std::string expected =
      ": not a pagerace program: expected a text program (first line \"pagerace 1\") or a binary one (magic "
      "\\x7fPGR); for a fuzzer's crash file, add --raw";
  // A text program without its header line, a raw fuzzer input, random bytes.
  std::string headless = PrintText(TwoThreads());
  headless = headless.substr(headless.find('\n') + 1);
  EXPECT_EQ(Error("headless.txt", headless), dir_ + "/headless.txt" + expected);
  EXPECT_EQ(Error("crash-1", Bytes(Encode(TwoThreads()))), dir_ + "/crash-1" + expected);
  std::string noise(4096, '\0');
  Rng rng(1);
  for (char& c : noise) c = static_cast<char>(rng.Next());
  noise[0] = 'x';  // not the magic
  EXPECT_EQ(Error("noise", noise), dir_ + "/noise" + expected);
  EXPECT_EQ(Error("blank", " \n\t\n# only a comment\n"), dir_ + "/blank" + expected);
  EXPECT_EQ(Error("short-magic", "\x7fPG"), dir_ + "/short-magic" + expected);
}

TEST_F(ArtifactLoadTest, RawDecodesEveryFileAsTheFuzzTargetsDo) {
  const std::string raw = Bytes(Encode(TwoThreads()));
  Result<Program> r = Load("crash-1", raw, FileKind::kFuzzerInput);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, TwoThreads());
  // A seed with the magic means what it says, as in the fuzz targets.
  r = Load("seed.bin", Bytes(EncodeFile(TwoThreads())), FileKind::kFuzzerInput);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, TwoThreads());
  // Text bytes are fuzzer bytes too: --raw never parses text.
  const std::string text = PrintText(TwoThreads());
  r = Load("text-raw", text, FileKind::kFuzzerInput);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Decode({reinterpret_cast<const uint8_t*>(text.data()), text.size()}));
}

TEST_F(ArtifactLoadTest, OversizeIsRefusedWithItsSizeAndTheLimit) {
  // The largest size allowed still loads (comments after the program).
  std::string text = PrintText(TwoThreads());
  std::string padded = text + std::string(kProgramFileMax - text.size() - 1, '#') + "\n";
  ASSERT_EQ(padded.size(), kProgramFileMax);
  Result<Program> r = Load("max.txt", padded);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, TwoThreads());
  padded += "\n";
  EXPECT_EQ(Error("big.txt", padded), dir_ + "/big.txt: too large: 1048577 bytes; the limit is 1048576 bytes");
  EXPECT_EQ(Error("big.bin", padded, FileKind::kFuzzerInput),
            dir_ + "/big.bin: too large: 1048577 bytes; the limit is 1048576 bytes");
}

TEST_F(ArtifactLoadTest, DeviceStopsAtTheLimit) {
  // /dev/zero never ends: at most kProgramFileMax + 1 bytes are read.
  for (FileKind kind : {FileKind::kProgram, FileKind::kFuzzerInput}) {
    Result<Program> r = LoadProgram("/dev/zero", kind);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), "/dev/zero: too large: more than 1048576 bytes; the limit is 1048576 bytes");
  }
}

TEST_F(ArtifactTest, WriteFailureSaysWhereAndWhy) {
  const Result<std::string> missing = WriteArtifact(dir_ + "/missing/dir", "STALE-x", {}, Program());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kIoError);
  EXPECT_EQ(missing.status().message(),
            "the artifact could not be written to " + dir_ + "/missing/dir: No such file or directory");
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/file", "x").ok());
  const Result<std::string> not_dir = WriteArtifact(dir_ + "/file", "STALE-x", {}, Program());
  ASSERT_FALSE(not_dir.ok());
  EXPECT_EQ(not_dir.status().message(), "the artifact could not be written to " + dir_ + "/file: Not a directory");
}

}  // namespace
}  // namespace pagerace
