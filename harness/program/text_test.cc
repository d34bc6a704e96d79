// Tests the text program format: a hand-written text (comments, blank lines,
// indentation, keys in any order) parses to the exact expected Program, and
// so does one with every op kind (names with '-' and digits) and the flusher,
// the backend and io keys take their names and default to memory and pread
// when absent (texts from before them still parse to what they ran on),
// PrintText's output is pinned, ParseText(PrintText(p)) == p for many random
// valid programs, every class of parse error names the right line:column,
// garbage and mutated texts fail cleanly, a byte order mark is skipped,
// negative numbers are refused, the largest program's text is within
// kTextProgramMax, and LooksLikeText sniffs correctly.
#include "harness/program/text.h"

#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/base/rng.h"
#include "harness/program/codec.h"
#include "harness/program/program.h"
#include "harness/program/program_testing.h"

namespace pagerace {
namespace {

Program RandomProgram(Rng& rng) {
  std::vector<uint8_t> bytes(rng.Below(600));
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng.Next());
  return Decode(bytes);
}

// "LINE:COL: " with both numbers positive.
bool HasPositionPrefix(const std::string& message) {
  size_t i = 0;
  for (int part = 0; part < 2; ++part) {
    const size_t start = i;
    while (i < message.size() && std::isdigit(static_cast<unsigned char>(message[i]))) ++i;
    if (i == start || message[start] == '0' || i >= message.size() || message[i] != ':') return false;
    ++i;
  }
  return i < message.size() && message[i] == ' ';
}

TEST(TextTest, HandWrittenTextParses) {
  const std::string text =
      "# a hand-written program\n"
      "\n"
      "pagerace 1   # format version\n"
      "seed 0x2A\n"
      "ra-fail 1\n"
      "files 2\n"
      "   \n"
      "file-pages 16\n"
      "ra-pages 0\n"
      "thread 0\n"
      "  read f0 s0+16\n"
      "\tpunch f1 s4+20# no blank before this comment\n"
      "thread 1   # no ops\n"
      "thread 2\r\n"
      "  evict f1 s127+1\n"
      "  readahead f0 s0+128\n"
      "  write f1 s8+8";
  const Result<Program> parsed = ParseText(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  Program expected;
  expected.files = 2;
  expected.file_pages = 16;
  expected.ra_pages = 0;
  expected.ra_fail = 1;
  expected.seed = 0x2a;
  expected.threads = {
      {Op{OpKind::kRead, 0, 0, 16}, Op{OpKind::kPunch, 1, 4, 20}},
      {},
      {Op{OpKind::kEvict, 1, 127, 1}, Op{OpKind::kReadahead, 0, 0, 128},
       Op{OpKind::kWrite, 1, 8, 8}},
  };
  EXPECT_EQ(parsed.value(), expected);
}

TEST(TextTest, EveryOpKindAndTheFlusherParse) {
  const std::string text =
      "pagerace 1\n"
      "flusher 1\n"
      "prefill 1\n"
      "thread 0\n"
      "load f0 s0+8\n"
      "store f0 s3+2\n"
      "fsync f0 s0+128\n"
      "madvise f0 s8+16\n"
      "thread 1\n"
      "readahead2 f0 s0+32\n"
      "write-mapped f0 s5+11   # pwrite from a mapping of itself\n"
      "read f0 s0+1\n"
      "write f0 s0+1\n"
      "punch f0 s0+1\n"
      "readahead f0 s0+1\n"
      "evict f0 s0+1\n"
      "zero f0 s2+3\n"
      "fdatasync f0 s0+1\n"
      "truncate f0 s5\n"
      "dio-read f0 s8+16\n"
      "dio-write f0 s0+8\n"
      "collapse f0 s8+8\n"
      "insert f0 s16+16\n";
  const Result<Program> parsed = ParseText(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  Program expected;
  expected.flusher = 1;
  expected.prefill = 1;
  expected.threads = {
      {Op{OpKind::kLoad, 0, 0, 8}, Op{OpKind::kStore, 0, 3, 2}, Op{OpKind::kFsync, 0, 0, 128},
       Op{OpKind::kMadvise, 0, 8, 16}},
      {Op{OpKind::kSysReadahead, 0, 0, 32}, Op{OpKind::kWriteMapped, 0, 5, 11}, Op{OpKind::kRead, 0, 0, 1},
       Op{OpKind::kWrite, 0, 0, 1}, Op{OpKind::kPunch, 0, 0, 1}, Op{OpKind::kReadahead, 0, 0, 1},
       Op{OpKind::kEvict, 0, 0, 1}, Op{OpKind::kZeroRange, 0, 2, 3}, Op{OpKind::kFdatasync, 0, 0, 1},
       Op{OpKind::kTruncate, 0, 5, 1}, Op{OpKind::kDioRead, 0, 8, 16}, Op{OpKind::kDioWrite, 0, 0, 8},
       Op{OpKind::kCollapse, 0, 8, 8}, Op{OpKind::kInsert, 0, 16, 16}},
  };
  EXPECT_EQ(parsed.value(), expected);
  // Every kind is used, and the program survives printing.
  EXPECT_EQ(expected.op_count(), kOpKinds);
  const std::string printed = PrintText(expected);
  EXPECT_NE(printed.find("prefill 1\nflusher 1\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("\nwrite-mapped f0 s5+11\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("\ntruncate f0 s5\n"), std::string::npos) << printed;
  const Result<Program> again = ParseText(printed);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again.value(), expected);
}

TEST(TextTest, OmittedKeysKeepDefaultsAndSeedTakesDecimal) {
  const Result<Program> parsed = ParseText("pagerace 1\nseed 18446744073709551615\nthread 0\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  Program expected;
  expected.seed = 18446744073709551615ULL;
  EXPECT_EQ(parsed.value(), expected);
}

TEST(TextTest, BackendAndIoTakeTheirNames) {
  const Result<Program> parsed = ParseText("pagerace 1\nio uring\nbackend blockmap\nthread 0\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  Program expected;
  expected.backend = BackendKind::kBlockmap;
  expected.io = IoMode::kUring;
  EXPECT_EQ(parsed.value(), expected);
  for (uint32_t b = 0; b < kBackendKinds; ++b) {
    for (uint32_t io = 0; io < kIoModes; ++io) {
      Program p;
      p.backend = static_cast<BackendKind>(b);
      p.io = static_cast<IoMode>(io);
      const std::string text = PrintText(p);
      EXPECT_NE(text.find("\nbackend " + std::string(BackendName(p.backend)) + "\nio " + IoModeName(p.io) + "\n"),
                std::string::npos)
          << text;
      const Result<Program> again = ParseText(text);
      ASSERT_TRUE(again.ok()) << again.status().message();
      EXPECT_EQ(again.value(), p);
    }
  }
}

// `fuse` takes the names of the mount option sets, and is printed only when
// set (it means something to the fuse target only).
TEST(TextTest, FuseTakesMountNamesAndIsPrintedWhenSet) {
  const Result<Program> parsed = ParseText("pagerace 1\nfuse writeback_cache,max_read=4096\nthread 0\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed.value().fuse, kFuseWritebackCache | kFuseMaxRead4k);
  EXPECT_EQ(PrintText(Program{}).find("fuse"), std::string::npos);
  for (uint8_t m = 0; m < kFuseMounts; ++m) {
    Program p;
    p.fuse = m;
    const Result<Program> again = ParseText(PrintText(p));
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_EQ(again.value(), p) << FuseMountName(m);
    EXPECT_EQ(FuseMountFromName(FuseMountName(m)), m);
  }
  const Result<Program> bad = ParseText("pagerace 1\nfuse max_read=4096,writeback_cache\nthread 0\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("2:6"), std::string::npos) << bad.status().message();
}

// Texts from before the backend and io keys (artifacts, regressions) ran on
// memory with pread unless a flag said otherwise: without the keys they
// still do.
TEST(TextTest, AbsentBackendAndIoAreMemoryAndPread) {
  const Result<Program> parsed = ParseText("pagerace 1\nfiles 2\nprefill 1\nflusher 0\nseed 0x0\nthread 0\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed.value().backend, BackendKind::kMemory);
  EXPECT_EQ(parsed.value().io, IoMode::kPread);
}

TEST(TextTest, NamesRoundTrip) {
  for (uint32_t b = 0; b < kBackendKinds; ++b)
    EXPECT_EQ(BackendFromName(BackendName(static_cast<BackendKind>(b))), static_cast<BackendKind>(b));
  for (uint32_t io = 0; io < kIoModes; ++io)
    EXPECT_EQ(IoModeFromName(IoModeName(static_cast<IoMode>(io))), static_cast<IoMode>(io));
  EXPECT_STREQ(BackendName(BackendKind::kMemory), "memory");
  EXPECT_STREQ(BackendName(BackendKind::kFile), "file");
  EXPECT_STREQ(BackendName(BackendKind::kBlockmap), "blockmap");
  EXPECT_STREQ(IoModeName(IoMode::kUring), "uring");
  EXPECT_EQ(BackendFromName("Blockmap"), std::nullopt);
  EXPECT_EQ(IoModeFromName(""), std::nullopt);
}

TEST(TextTest, PrintTextFormatIsPinned) {
  Program p;
  p.files = 2;
  p.file_pages = 8;
  p.ra_pages = 3;
  p.ra_fail = 1;
  p.seed = 0xdeadbeef;
  p.threads = {{Op{OpKind::kRead, 0, 0, 16}, Op{OpKind::kPunch, 1, 4, 20}}, {}};
  EXPECT_EQ(PrintText(p),
            "pagerace 1\n"
            "files 2\n"
            "file-pages 8\n"
            "ra-pages 3\n"
            "ra-fail 1\n"
            "prefill 0\n"
            "flusher 0\n"
            "backend memory\n"
            "io pread\n"
            "points every\n"
            "seed 0xdeadbeef\n"
            "pct-depth 3\n"
            "schedule random\n"
            "thread 0\n"
            "read f0 s0+16\n"
            "punch f1 s4+20\n"
            "thread 1\n");
  p.schedule.strategy = Strategy::kDirected;
  p.schedule.preemptions = {{4, 1}, {4, 0}, {90, 1}};
  const std::string text = PrintText(p);
  EXPECT_NE(text.find("schedule directed\npreempt 4 t1\npreempt 4 t0\npreempt 90 t1\nthread 0\n"),
            std::string::npos)
      << text;
  const Result<Program> parsed = ParseText(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed.value(), p);
}

TEST(TextTest, RandomProgramsRoundTrip) {
  Rng rng(99);
  for (int i = 0; i < 2000; ++i) {
    const Program p = RandomProgram(rng);
    const std::string text = PrintText(p);
    const Result<Program> parsed = ParseText(text);
    ASSERT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << text;
    ASSERT_EQ(parsed.value(), p) << text;
    ASSERT_EQ(PrintText(parsed.value()), text);
  }
}

struct ErrorCase {
  const char* what;
  std::string text;
  std::string message;  // the whole expected message
};

std::string Lines(int n, const std::string& line) {
  std::string out;
  for (int i = 0; i < n; ++i) out += line;
  return out;
}

const std::vector<ErrorCase>& ErrorCases() {
  static const std::vector<ErrorCase> kCases = {
      {"unknown kind", "pagerace 1\nthread 0\n  reed f0 s0+1\n",
       "3:3: unknown op kind 'reed' (expected one of: read write punch readahead evict load store fsync "
       "madvise readahead2 write-mapped zero fdatasync truncate dio-read dio-write collapse insert)"},
      {"size with a count", "pagerace 1\nthread 0\ntruncate f0 s4+1\n",
       "3:13: expected a size 's<sectors>', got 's4+1'"},
      {"size past the file", "pagerace 1\nfile-pages 2\nthread 0\ntruncate f0 s17\n",
       "4:13: size 17 out of range [0, 16] (the file's 16 sectors)"},
      {"prefix of a kind", "pagerace 1\nthread 0\nwrite-map f0 s0+1\n",
       "3:1: unknown op kind 'write-map' (expected one of: read write punch readahead evict load store fsync "
       "madvise readahead2 write-mapped zero fdatasync truncate dio-read dio-write collapse insert)"},
      {"bad file", "pagerace 1\nfiles 2\nthread 0\nread f2 s0+1\n", "4:6: file 2 out of range [0, 2) (files 2)"},
      {"file syntax", "pagerace 1\nthread 0\nread 0 s0+1\n", "3:6: expected a file 'f<N>', got '0'"},
      {"sector out of range", "pagerace 1\nthread 0\n  write f0 s600+4\n", "3:12: sector 600 out of range [0, 128)"},
      {"count past file end", "pagerace 1\nthread 0\nread f0 s120+16\n",
       "3:14: sectors 120+16 run past the end of the file (128 sectors)"},
      {"count zero", "pagerace 1\nthread 0\nread f0 s0+0\n", "3:12: sector count 0 out of range [1, 128]"},
      {"direct op off a page", "pagerace 1\nthread 0\ndio-read f0 s4+8\n",
       "3:13: sector 4 of a direct op is not at a page (a multiple of 8)"},
      {"direct op of part of a page", "pagerace 1\nthread 0\ndio-write f0 s8+12\n",
       "3:17: sector count 12 of a direct op is not whole pages (a multiple of 8)"},
      {"collapse off a page", "pagerace 1\nthread 0\ncollapse f0 s12+8\n",
       "3:13: sector 12 of 'collapse' is not at a page (a multiple of 8)"},
      {"insert of part of a page", "pagerace 1\nthread 0\ninsert f0 s8+4\n",
       "3:14: sector count 4 of 'insert' is not whole pages (a multiple of 8)"},
      {"count too big", "pagerace 1\nfile-pages 64\nthread 0\nread f0 s0+129\n",
       "4:12: sector count 129 out of range [1, 128]"},
      {"sector syntax", "pagerace 1\nthread 0\nread f0 s4\n", "3:9: expected sectors 's<first>+<count>', got 's4'"},
      {"missing sectors", "pagerace 1\nthread 0\nread f0   # no sectors\n",
       "3:8: expected sectors 's<first>+<count>' after 'f0'"},
      {"duplicate key", "pagerace 1\nfiles 2\nseed 3\nfiles 2\n", "4:1: duplicate key 'files'"},
      {"key after thread", "pagerace 1\nthread 0\nseed 1\n",
       "3:1: header key 'seed' after the first thread (header keys go before 'thread 0')"},
      {"unknown key", "pagerace 1\nfilez 2\n",
       "2:1: unknown key 'filez' (expected one of: files file-pages ra-pages ra-fail prefill flusher backend io points fuse seed pct-depth "
       "schedule preempt thread)"},
      {"flusher out of range", "pagerace 1\nflusher 2\n", "2:9: flusher 2 out of range [0, 1]"},
      {"duplicate flusher", "pagerace 1\nflusher 1\nflusher 1\n", "3:1: duplicate key 'flusher'"},
      {"key out of range", "pagerace 1\nfiles 5\n", "2:7: files 5 out of range [1, 4]"},
      {"key not a number", "pagerace 1\nra-pages four\n",
       "2:10: expected ra-pages as a decimal number, got 'four'"},
      {"thread out of order", "pagerace 1\nthread 0\nthread 2\n", "3:8: thread 2 out of order (expected thread 1)"},
      {"first thread not 0", "pagerace 1\nthread 1\n", "2:8: thread 1 out of order (expected thread 0)"},
      {"too many threads",
       "pagerace 1\nthread 0\nthread 1\nthread 2\nthread 3\nthread 4\nthread 5\nthread 6\nthread 7\nthread 8\n",
       "10:8: too many threads: at most 8"},
      {"no thread", "pagerace 1\nfiles 2\n", "3:1: expected at least one 'thread 0' section, got end of input"},
      {"op before thread", "pagerace 1\nread f0 s0+1\n",
       "2:1: op 'read' before the first thread (expected 'thread 0' first)"},
      {"missing version line", "# comment\nfiles 2\n", "2:1: expected 'pagerace 1' first, got 'files'"},
      {"empty input", "", "1:1: expected 'pagerace 1' first, got end of input"},
      {"wrong version", "pagerace 2\n", "1:10: unsupported format version '2' (expected 1)"},
      {"duplicate version", "pagerace 1\npagerace 1\n", "2:1: duplicate 'pagerace' line (it must come once, first)"},
      {"trailing junk op", "pagerace 1\nthread 0\nread f0 s0+1 extra\n",
       "3:14: unexpected 'extra' after the op (expected end of line)"},
      {"trailing junk key", "pagerace 1\nfiles 2 3\n", "2:9: unexpected '3' after files value (expected end of line)"},
      {"trailing junk thread", "pagerace 1\nthread 0 0\n",
       "2:10: unexpected '0' after thread number (expected end of line)"},
      {"seed overflow", "pagerace 1\nseed 0x10000000000000000\n",
       "2:6: seed '0x10000000000000000' does not fit in 64 bits"},
      {"sector overflow", "pagerace 1\nthread 0\nread f0 s99999999999999999999+1\n",
       "3:10: first sector '99999999999999999999' does not fit in 64 bits"},
      {"negative seed", "pagerace 1\nseed -1\n", "2:6: seed '-1' is negative"},
      {"negative key", "pagerace 1\nfiles -2\n", "2:7: files '-2' is negative"},
      {"negative sector", "pagerace 1\nthread 0\nread f0 s-3+1\n", "3:10: first sector '-3' is negative"},
      {"bom then capitalized header", "\xef\xbb\xbfPagerace 1\n", "1:1: expected 'pagerace 1' first, got 'Pagerace'"},
      {"count overflow", "pagerace 1\nthread 0\nread f0 s1+99999999999999999999\n",
       "3:12: sector count '99999999999999999999' does not fit in 64 bits"},
      {"too many ops", "pagerace 1\nthread 0\n" + Lines(257, "read f0 s0+1\n"),
       "259:1: too many ops: at most 256 in all threads"},
      {"unknown backend", "pagerace 1\nbackend  tape\n",
       "2:10: unknown backend 'tape' (expected one of: memory file blockmap)"},
      {"backend as a number", "pagerace 1\nbackend 2\n",
       "2:9: unknown backend '2' (expected one of: memory file blockmap)"},
      {"missing backend", "pagerace 1\nbackend # which?\n", "2:8: expected a value after 'backend'"},
      {"duplicate backend", "pagerace 1\nbackend file\nbackend file\n", "3:1: duplicate key 'backend'"},
      {"trailing junk backend", "pagerace 1\nbackend file uring\n",
       "2:14: unexpected 'uring' after backend value (expected end of line)"},
      {"unknown io", "pagerace 1\nio aio\n", "2:4: unknown io 'aio' (expected one of: pread uring)"},
      {"backend after thread", "pagerace 1\nthread 0\nbackend file\n",
       "3:1: header key 'backend' after the first thread (header keys go before 'thread 0')"},
      {"unknown strategy", "pagerace 1\nschedule fair\n",
       "2:10: unknown schedule strategy 'fair' (expected one of: random pct directed)"},
      {"duplicate schedule", "pagerace 1\nschedule pct\nschedule pct\n", "3:1: duplicate key 'schedule'"},
      {"pct depth range", "pagerace 1\npct-depth 9\n", "2:11: pct-depth 9 out of range [1, 8]"},
      {"preempt without directed", "pagerace 1\npreempt 3 t0\nthread 0\n",
       "2:1: 'preempt' needs 'schedule directed'"},
      {"preempt to missing thread", "pagerace 1\nschedule directed\npreempt 3 t2\nthread 0\nthread 1\n",
       "3:1: preemption to thread 2, but the program has 2 threads"},
      {"preempt past the flusher", "pagerace 1\nflusher 1\nschedule directed\npreempt 3 t3\nthread 0\nthread 1\n",
       "4:1: preemption to thread 3, but the program has 2 threads and the flusher"},
      {"preempt thread range", "pagerace 1\nschedule directed\npreempt 3 t9\n", "3:11: thread 9 out of range [0, 9)"},
      {"preempt out of order", "pagerace 1\nschedule directed\npreempt 9 t0\npreempt 3 t0\n",
       "4:9: preemptions must be in step order (step 3 after step 9)"},
      {"preempt step range", "pagerace 1\npreempt 65536 t0\n", "2:9: step 65536 out of range [0, 65535]"},
      {"preempt thread syntax", "pagerace 1\npreempt 1 0\n", "2:11: expected a thread 't<N>', got '0'"},
      {"preempt after thread", "pagerace 1\nthread 0\npreempt 1 t0\n",
       "3:1: header key 'preempt' after the first thread (header keys go before 'thread 0')"},
      {"binary junk", "pagerace 1\n\x01\xff\n", "2:1: unknown key '\\x01\\xff' (expected one of: "
                                                "files file-pages ra-pages ra-fail prefill flusher backend io points fuse seed pct-depth "
                                                "schedule preempt thread)"},
  };
  return kCases;
}

TEST(TextTest, ErrorsNameLineAndColumn) {
  for (const ErrorCase& c : ErrorCases()) {
    SCOPED_TRACE(c.what);
    const Result<Program> parsed = ParseText(c.text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parsed.status().message(), c.message);
  }
}

TEST(TextTest, ExactlyOpsMaxIsAccepted) {
  const Result<Program> parsed = ParseText("pagerace 1\nthread 0\n" + Lines(128, "read f0 s0+1\n") +
                                           "thread 1\n" + Lines(128, "evict f0 s1+2\n"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed.value().op_count(), kOpsMax);
}

// Random bytes, and printed programs with random byte edits, either parse to
// a valid program or fail with a positioned error; never anything else.
TEST(TextTest, GarbageAndMutationsFailCleanly) {
  Rng rng(3);
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = PrintText(RandomProgram(rng));
    const int edits = static_cast<int>(rng.Range(1, 3));
    for (int e = 0; e < edits; ++e) {
      static const char kAlphabet[] = "0123456789 \n#+fsx-pagerace\t\xff";
      text[rng.Below(text.size())] = kAlphabet[rng.Below(sizeof(kAlphabet) - 1)];
    }
    if (i % 4 == 0) {
      text.resize(rng.Below(64));
      for (char& c : text) c = static_cast<char>(rng.Next());
    }
    const Result<Program> parsed = ParseText(text);
    if (parsed.ok()) {
      ++accepted;
      ASSERT_TRUE(Validate(parsed.value()).ok()) << text;
      const Result<Program> again = ParseText(PrintText(parsed.value()));
      ASSERT_TRUE(again.ok()) << again.status().message();
      ASSERT_EQ(again.value(), parsed.value()) << text;
    } else {
      ASSERT_TRUE(HasPositionPrefix(parsed.status().message())) << parsed.status().message();
    }
  }
  EXPECT_GT(accepted, 0);  // some edits (e.g. inside comments or values) still parse
}

TEST(TextTest, ByteOrderMarkIsSkipped) {
  const std::string text = PrintText(LargestProgram());
  const Result<Program> parsed = ParseText("\xef\xbb\xbf" + text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed.value(), LargestProgram());
  // Only at the start: elsewhere it is a token like any other.
  EXPECT_FALSE(ParseText("pagerace 1\n\xef\xbb\xbfthread 0\n").ok());
  EXPECT_EQ(SkipByteOrderMark("\xef\xbb\xbfpagerace"), "pagerace");
  EXPECT_EQ(SkipByteOrderMark("\xef\xbbpagerace"), "\xef\xbbpagerace");
}

TEST(TextTest, LargestProgramFitsTheBound) {
  const std::string text = PrintText(LargestProgram());
  EXPECT_LE(text.size(), kTextProgramMax);
  size_t line_start = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', line_start)) {
    EXPECT_LT(nl + 1 - line_start, kTextLineMax) << text.substr(line_start, nl - line_start);
    line_start = nl + 1;
  }
}

TEST(TextTest, LooksLikeText) {
  EXPECT_TRUE(LooksLikeText("pagerace 1\n"));
  EXPECT_TRUE(LooksLikeText("pagerace"));
  EXPECT_TRUE(LooksLikeText("pagerace#1"));
  EXPECT_TRUE(LooksLikeText("\n  \t# a comment\n\n# another\r\npagerace 1\nthread 0\n"));
  EXPECT_TRUE(LooksLikeText(PrintText(Program())));
  EXPECT_TRUE(LooksLikeText("\xef\xbb\xbfpagerace 1\n"));
  EXPECT_TRUE(LooksLikeText("\xef\xbb\xbf\r\n# c\n  pagerace 1\n"));
  // Meant as text, whatever is wrong with the line: ParseText says what.
  EXPECT_TRUE(LooksLikeText("pageracer 1\n"));
  EXPECT_TRUE(LooksLikeText("Pagerace 1\n"));
  EXPECT_TRUE(LooksLikeText("PAGERACE 2\n"));
  EXPECT_FALSE(LooksLikeText(""));
  EXPECT_FALSE(LooksLikeText("\xef\xbb\xbf"));
  EXPECT_FALSE(LooksLikeText("   \n# only a comment pagerace\n"));
  EXPECT_FALSE(LooksLikeText("files 2\npagerace 1\n"));
  EXPECT_FALSE(LooksLikeText(std::string("\0pagerace 1\n", 12)));
  EXPECT_FALSE(LooksLikeText("pager"));
  EXPECT_FALSE(LooksLikeText("\x7fPGR"));
}

}  // namespace
}  // namespace pagerace
