// Tests the trace renderers on a hand-made trace: the swimlane puts each
// event in its thread's lane, names the generations a page held, ends with
// the violations and is byte-identical across calls; the HTML page is
// self-contained and escapes what it inserts; DescribeHeaders names zeros,
// foreign sectors and untagged words.
#include "harness/run/trace_render.h"

#include <gtest/gtest.h>

#include "harness/oracle/tag.h"

namespace pagerace {
namespace {

using sched::EventKind;

// The header words (0-2) of one page whose sector i holds generation gens[i]
// of its own (file, sector), 0 meaning all zeros.
std::vector<uint64_t> PageHeaders(uint32_t file, uint32_t page, const std::vector<uint64_t>& gens) {
  std::vector<uint64_t> words;
  for (uint32_t i = 0; i < kSectorsPerPage; ++i)
    for (uint32_t k = 0; k < 3; ++k)
      words.push_back(gens[i] == 0 ? 0 : TagWord(file, page * kSectorsPerPage + i, gens[i], k));
  return words;
}

sched::Event Ev(uint64_t step, int thread, EventKind kind, std::string text,
                std::vector<uint64_t> headers = {}) {
  sched::Event e;
  e.step = step;
  e.thread = thread;
  e.kind = kind;
  e.text = std::move(text);
  e.headers = std::move(headers);
  return e;
}

// The line of `out` holding `needle`; empty if none.
std::string LineWith(const std::string& out, const std::string& needle) {
  const size_t at = out.find(needle);
  if (at == std::string::npos) return "";
  const size_t begin = out.rfind('\n', at) + 1;  // npos + 1 == 0
  return out.substr(begin, out.find('\n', at) - begin);
}

// Column of `needle` within its line; npos if absent.
size_t ColumnOf(const std::string& out, const std::string& needle) {
  const size_t at = out.find(needle);
  if (at == std::string::npos) return std::string::npos;
  const size_t nl = out.rfind('\n', at);
  return nl == std::string::npos ? at : at - nl - 1;
}

class TraceRenderTest : public testing::Test {
 protected:
  void SetUp() override {
    program_.files = 2;
    program_.threads = {{Op{OpKind::kWrite, 0, 8, 8}}, {Op{OpKind::kRead, 0, 8, 8}}};

    // Page f0 p1 is sectors 8..15: generation 7, but sector 11 is a hole and
    // sector 12 holds sector 12 of file 1.
    std::vector<uint64_t> headers = PageHeaders(0, 1, {7, 7, 7, 0, 7, 7, 7, 7});
    for (uint32_t k = 0; k < 3; ++k) headers[4 * 3 + k] = TagWord(1, 12, 7, k);

    trace_.events = {
        Ev(0, -1, EventKind::kNote, "setup"),
        Ev(1, 0, EventKind::kOp, "t0#0 write f0 s8+8"),
        Ev(2, 0, EventKind::kLock, "takes i_rwsem"),
        Ev(3, 1, EventKind::kOp, "t1#0 read f0 s8+8"),
        Ev(4, 1, EventKind::kWait, "waits for f0 p1 unlocked"),
        Ev(5, 0, EventKind::kFolio, "uptodate f0 p1", headers),
        Ev(6, 0, EventKind::kFolio, "insert f0 p0", PageHeaders(0, 0, {2, 2, 2, 2, 2, 2, 2, 2})),
        Ev(7, 0, EventKind::kIo, "backend write f0 p1"),
        Ev(8, 1, EventKind::kPoint, "read-after-lookup"),
        Ev(9, 1, EventKind::kNote, "x < y & \"z\""),
        Ev(10, 1, EventKind::kOp, "done: saw s8-15 gen 5"),
    };

    Violation v;
    v.kind = ViolationKind::kStale;
    v.file = 0;
    v.sector = 9;
    v.stamp = 12;
    v.reader = "t1#0 read f0 s8+8";
    v.observed = "gen 5";
    v.expected = "gen 7 of t0#0 write f0 s8+8";
    report_.violations.push_back(v);
    report_.total = 1;
  }

  Program program_;
  sched::Trace trace_;
  CheckReport report_;
};

TEST_F(TraceRenderTest, SwimlanePutsEventsInTheirThreadsLane) {
  const std::string out = RenderSwimlane(program_, trace_, report_);
  SCOPED_TRACE(out);
  const std::string header = out.substr(0, out.find('\n'));
  EXPECT_EQ(header.find("step"), 1u);
  const size_t t0 = header.find("| t0") + 2;
  const size_t t1 = header.find("| t1") + 2;
  const size_t outside = header.find("| outside") + 2;
  ASSERT_NE(header.find("| t0"), std::string::npos);
  ASSERT_NE(header.find("| t1"), std::string::npos);
  ASSERT_NE(header.find("| outside"), std::string::npos);
  EXPECT_LT(t0, t1);
  EXPECT_LT(t1, outside);

  // Each text starts exactly under its lane's name.
  EXPECT_EQ(ColumnOf(out, "t0#0 write f0 s8+8"), t0);
  EXPECT_EQ(ColumnOf(out, "takes i_rwsem"), t0);
  EXPECT_EQ(ColumnOf(out, "t1#0 read f0 s8+8"), t1);
  EXPECT_EQ(ColumnOf(out, "waits for f0 p1 unlocked"), t1);
  EXPECT_EQ(ColumnOf(out, "setup"), outside);
  EXPECT_GT(ColumnOf(out, "read-after-lookup"), ColumnOf(out, "backend write f0 p1"));

  // Step right-aligned, kind after it; the violating read is marked.
  EXPECT_EQ(LineWith(out, "takes i_rwsem").substr(0, 13), "    2 lock   ");
  EXPECT_EQ(LineWith(out, "t1#0 read").substr(0, 13), "    3 op!    ");
  EXPECT_EQ(LineWith(out, "t0#0 write").substr(0, 13), "    1 op     ");
  EXPECT_EQ(LineWith(out, "done: saw").substr(0, 13), "   10 op     ");

  // Every line is plain ASCII with no trailing blank.
  for (char c : out) EXPECT_TRUE(c == '\n' || (c >= 0x20 && c <= 0x7e)) << int(c);
  EXPECT_EQ(out.find(" \n"), std::string::npos);
}

TEST_F(TraceRenderTest, SwimlaneNamesGenerations) {
  const std::string out = RenderSwimlane(program_, trace_, report_);
  SCOPED_TRACE(out);
  // Fits beside the text.
  EXPECT_NE(out.find("| insert f0 p0 [gens 2 2 2 2 2 2 2 2]    |"), std::string::npos);
  // Too long for the lane: on a continuation row, same lane, no step.
  const size_t t0 = ColumnOf(out, "t0#0 write");
  EXPECT_EQ(ColumnOf(out, "uptodate f0 p1"), t0);
  const std::string cont = LineWith(out, "[gens 7 7 7 0 f1s12g7 7 7 7]");
  ASSERT_FALSE(cont.empty());
  EXPECT_EQ(cont.find("[gens"), t0);
  EXPECT_EQ(cont.find_first_not_of(' '), cont.find('|'));
  EXPECT_LT(out.find("uptodate f0 p1"), out.find("[gens 7 7 7 0 f1s12g7 7 7 7]"));
  // No headers: no summary.
  EXPECT_EQ(LineWith(out, "backend write f0 p1").find("gens"), std::string::npos);
}

TEST_F(TraceRenderTest, SwimlaneEndsWithViolations) {
  const std::string out = RenderSwimlane(program_, trace_, report_);
  SCOPED_TRACE(out);
  const std::string tail = "== violation ==\n" + report_.violations[0].ToString() + "\n";
  ASSERT_GE(out.size(), tail.size());
  EXPECT_EQ(out.substr(out.size() - tail.size()), tail);
  EXPECT_NE(out.find("STALE f0 s9: t1#0 read f0 s8+8 saw gen 5"), std::string::npos);
  EXPECT_LT(out.find("done: saw"), out.find("== violation =="));

  // At most four shown, the rest counted.
  CheckReport many;
  for (uint32_t i = 0; i < 6; ++i) {
    Violation v = report_.violations[0];
    v.sector = 8 + i;
    many.violations.push_back(v);
  }
  many.total = 9;
  const std::string cut = RenderSwimlane(program_, trace_, many);
  EXPECT_NE(cut.find("STALE f0 s11:"), std::string::npos);
  EXPECT_EQ(cut.find("STALE f0 s12:"), std::string::npos);
  EXPECT_NE(cut.find("\n... 5 more (9 in all)\n"), std::string::npos);

  const std::string clean = RenderSwimlane(program_, trace_, CheckReport{});
  EXPECT_EQ(clean.substr(clean.size() - 29), "== violation ==\nno violation\n");
  EXPECT_EQ(LineWith(clean, "t1#0 read").substr(0, 13), "    3 op     ");
}

TEST_F(TraceRenderTest, SwimlaneIsDeterministicAndCutsLongTexts) {
  EXPECT_EQ(RenderSwimlane(program_, trace_, report_), RenderSwimlane(program_, trace_, report_));
  EXPECT_EQ(RenderHtml(program_, trace_, report_), RenderHtml(program_, trace_, report_));

  // No outside event: no outside lane. A long text is cut to the lane width.
  sched::Trace trace;
  const std::string long_text(100, 'x');
  trace.events = {Ev(0, 0, EventKind::kNote, long_text), Ev(1, 1, EventKind::kNote, "after")};
  const std::string out = RenderSwimlane(program_, trace, CheckReport{});
  SCOPED_TRACE(out);
  EXPECT_EQ(out.find("outside"), std::string::npos);
  const std::string line = LineWith(out, "xxx");
  const std::string cut = std::string(kTraceLaneWidth - 3, 'x') + "...";
  EXPECT_NE(line.find("| " + cut + " |"), std::string::npos);
  EXPECT_EQ(line.find(std::string(kTraceLaneWidth - 2, 'x')), std::string::npos);
  EXPECT_EQ(ColumnOf(out, "after"), ColumnOf(out, "| t1") + 2);
}

TEST_F(TraceRenderTest, HtmlIsSelfContainedAndEscaped) {
  trace_.events.push_back(Ev(11, 0, EventKind::kNote, "see http://example.com/"));
  const std::string html = RenderHtml(program_, trace_, report_);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  EXPECT_NE(html.find("x &lt; y &amp; &quot;z&quot;"), std::string::npos);
  EXPECT_EQ(html.find("x < y"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  // A column per thread, a class per kind, the summary, the program, the verdict.
  EXPECT_NE(html.find("<th>t0</th><th>t1</th><th>outside</th>"), std::string::npos);
  for (const char* kind : {"op", "point", "wait", "lock", "folio", "io"})
    EXPECT_NE(html.find("<tr class=\"k-" + std::string(kind)), std::string::npos) << kind;
  EXPECT_NE(html.find("[gens 7 7 7 0 f1s12g7 7 7 7]"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"k-op viol\">"), std::string::npos);
  EXPECT_NE(html.find("<pre class=\"program\">pagerace 1\n"), std::string::npos);
  EXPECT_NE(html.find("read f0 s8+8"), std::string::npos);
  const size_t violation = html.find("<div class=\"violation\">");
  ASSERT_NE(violation, std::string::npos);
  EXPECT_NE(html.find("STALE f0 s9: t1#0 read f0 s8+8 saw gen 5", violation), std::string::npos);
  EXPECT_NE(RenderHtml(program_, trace_, CheckReport{}).find("<div class=\"ok\">no violation</div>"),
            std::string::npos);
}

TEST(TraceRenderDescribeHeaders, NamesWhatEachSectorHeld) {
  std::vector<uint64_t> h = PageHeaders(2, 3, {5, 5, 5, 0, 0, 5, 5, 5});
  EXPECT_EQ(DescribeHeaders(h, 2, 24), "gens 5 5 5 0 0 5 5 5");
  // Expected elsewhere: every sector is foreign.
  EXPECT_EQ(DescribeHeaders(h, 2, 16), "gens f2s24g5 f2s25g5 f2s26g5 0 0 f2s29g5 f2s30g5 f2s31g5");
  EXPECT_EQ(DescribeHeaders(h, 1, 24), "gens f2s24g5 f2s25g5 f2s26g5 0 0 f2s29g5 f2s30g5 f2s31g5");
  // Word 0 without the magic; a sector of another file; a new generation.
  h[0] = 0x1234;
  h[5 * 3 + 0] = TagWord(1, 29, 9, 0);
  h[7 * 3 + 2] = 11;
  EXPECT_EQ(DescribeHeaders(h, 2, 24), "gens ? 5 5 0 0 f1s29g5 5 11");
  // Not a whole sector: nothing to say.
  EXPECT_EQ(DescribeHeaders({}, 0, 0), "");
  EXPECT_EQ(DescribeHeaders({1, 2}, 0, 0), "");
}

TEST(TraceRenderParse, NoSummaryWhenThePageCannotBeNamed) {
  Program program;
  program.threads = {{}};
  sched::Trace trace;
  const std::vector<uint64_t> headers = PageHeaders(0, 0, {1, 1, 1, 1, 1, 1, 1, 1});
  trace.events = {Ev(0, 0, EventKind::kFolio, "insert page", headers),
                  Ev(1, 0, EventKind::kFolio, "insert f0 px", headers),
                  Ev(2, 0, EventKind::kNote, "note f0 p0", headers),
                  Ev(3, 0, EventKind::kIo, "zero part of f0 p0", headers)};
  const std::string out = RenderSwimlane(program, trace, CheckReport{});
  SCOPED_TRACE(out);
  EXPECT_EQ(LineWith(out, "insert page").find("gens"), std::string::npos);
  EXPECT_EQ(LineWith(out, "insert f0 px").find("gens"), std::string::npos);
  EXPECT_EQ(LineWith(out, "note f0 p0").find("gens"), std::string::npos);
  EXPECT_NE(out.find("zero part of f0 p0"), std::string::npos);
  EXPECT_NE(out.find("[gens 1 1 1 1 1 1 1 1]"), std::string::npos);
  EXPECT_EQ(out.find("gens"), out.rfind("gens"));
}

}  // namespace
}  // namespace pagerace
