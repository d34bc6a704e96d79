// Trace rendering: the swimlane text and the HTML page (see trace_render.h).
// Both walk the events once, placing each in the lane of its thread; the
// events of the op that observed a violation (its begin event, whose text is
// the violation's reader) are marked "!" in the swimlane and highlighted in
// the HTML.
#include "harness/run/trace_render.h"

#include <algorithm>
#include <charconv>
#include <string_view>

#include "harness/oracle/tag.h"
#include "harness/program/text.h"

namespace pagerace {
namespace {

constexpr size_t kViolationsShown = 4;
constexpr size_t kStepWidth = 5;
constexpr size_t kKindWidth = 6;
constexpr size_t kHeaderWords = 3;  // words 0-2 of each sector

// The lanes of a rendering: one per program thread (more if an event names a
// thread beyond them), plus "outside" when some event has thread < 0.
struct Lanes {
  size_t threads = 0;
  bool outside = false;
  size_t count() const { return threads + (outside ? 1 : 0); }
  size_t of(const sched::Event& e) const { return e.thread < 0 ? threads : static_cast<size_t>(e.thread); }
  std::string name(size_t lane) const { return lane < threads ? "t" + std::to_string(lane) : "outside"; }
};

Lanes LanesOf(const Program& program, const sched::Trace& trace) {
  Lanes lanes;
  lanes.threads = program.threads.size();
  for (const sched::Event& e : trace.events) {
    if (e.thread < 0)
      lanes.outside = true;
    else
      lanes.threads = std::max(lanes.threads, static_cast<size_t>(e.thread) + 1);
  }
  return lanes;
}

bool ParseNumber(std::string_view digits, uint32_t& value) {
  if (digits.empty()) return false;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return ec == std::errc() && end == digits.data() + digits.size();
}

// "uptodate f0 p3": the file and page named by the last two tokens.
bool ParsePage(std::string_view text, uint32_t& file, uint32_t& page) {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  const size_t p = text.rfind(' ');
  if (p == std::string_view::npos) return false;
  std::string_view page_token = text.substr(p + 1);
  std::string_view rest = text.substr(0, p);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  const size_t f = rest.rfind(' ');
  std::string_view file_token = f == std::string_view::npos ? rest : rest.substr(f + 1);
  if (page_token.size() < 2 || page_token[0] != 'p' || file_token.size() < 2 || file_token[0] != 'f')
    return false;
  return ParseNumber(file_token.substr(1), file) && ParseNumber(page_token.substr(1), page) &&
         page <= UINT32_MAX / kSectorsPerPage;
}

// The generation summary of a folio or I/O event, or "" when it has none.
std::string SummaryOf(const sched::Event& e) {
  if (e.kind != sched::EventKind::kFolio && e.kind != sched::EventKind::kIo) return "";
  if (e.headers.empty()) return "";
  uint32_t file = 0;
  uint32_t page = 0;
  if (!ParsePage(e.text, file, page)) return "";
  return DescribeHeaders(e.headers, file, page * kSectorsPerPage);
}

// True if `e` begins the op that observed one of the shown violations.
bool IsViolationReader(const sched::Event& e, const CheckReport& report) {
  if (e.kind != sched::EventKind::kOp) return false;
  const size_t shown = std::min(report.violations.size(), kViolationsShown);
  for (size_t i = 0; i < shown; ++i)
    if (!report.violations[i].reader.empty() && report.violations[i].reader == e.text) return true;
  return false;
}

// ---- Swimlane --------------------------------------------------------------

// Plain printable ASCII on one line: anything else becomes '?'.
std::string Printable(std::string_view text) {
  std::string s(text);
  for (char& c : s)
    if (c < 0x20 || c > 0x7e) c = '?';
  return s;
}

// `text` cut to the lane width, ending in "..." when cut.
std::string Fit(std::string_view text) {
  if (text.size() <= kTraceLaneWidth) return std::string(text);
  return std::string(text.substr(0, kTraceLaneWidth - 3)) + "...";
}

// `text` split at spaces into lines of at most the lane width.
void Wrap(std::string_view text, std::vector<std::string>& lines) {
  std::string line;
  size_t i = 0;
  while (i < text.size()) {
    const size_t end = std::min(text.find(' ', i), text.size());
    const std::string_view word = text.substr(i, end - i);
    i = end + 1;
    if (word.empty()) continue;
    if (!line.empty() && line.size() + 1 + word.size() > kTraceLaneWidth) {
      lines.push_back(Fit(line));
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
  }
  if (!line.empty()) lines.push_back(Fit(line));
}

// The lines of one event's cell: its text, then its summary on the same line
// if both fit, else on continuation lines.
std::vector<std::string> CellLines(const sched::Event& e) {
  const std::string text = Printable(e.text);
  const std::string summary = SummaryOf(e);
  std::vector<std::string> lines;
  if (summary.empty()) {
    lines.push_back(Fit(text));
    return lines;
  }
  const std::string tagged = "[" + summary + "]";
  if (text.size() + 1 + tagged.size() <= kTraceLaneWidth) {
    lines.push_back(text + " " + tagged);
    return lines;
  }
  lines.push_back(Fit(text));
  Wrap(tagged, lines);
  return lines;
}

void PadRight(std::string& out, std::string_view s, size_t width) {
  out += s;
  if (s.size() < width) out.append(width - s.size(), ' ');
}

void PadLeft(std::string& out, std::string_view s, size_t width) {
  if (s.size() < width) out.append(width - s.size(), ' ');
  out += s;
}

// One swimlane line: the step and kind columns, then every lane, `cell` in
// lane `lane` and a bare "|" in the others; no trailing blanks.
void AppendRow(std::string& out, std::string_view step, std::string_view kind, const Lanes& lanes,
               size_t lane, std::string_view cell) {
  const size_t start = out.size();
  PadLeft(out, step, kStepWidth);
  out += ' ';
  PadRight(out, kind, kKindWidth);
  for (size_t i = 0; i < lanes.count(); ++i) {
    out += " | ";
    PadRight(out, i == lane ? cell : std::string_view(), kTraceLaneWidth);
  }
  while (out.size() > start && out.back() == ' ') out.pop_back();
  out += '\n';
}

// ---- HTML ------------------------------------------------------------------

// Escapes `text` for HTML content and attribute values. A ':' before "//" is
// escaped too, so that no inserted text can spell a URL scheme.
void AppendEscaped(std::string& out, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case ':': out += text.substr(i + 1, 2) == "//" ? "&#58;" : ":"; break;
      default: out += c; break;
    }
  }
}

constexpr std::string_view kHtmlHead = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pagerace trace</title>
<style>
body { font-family: monospace; font-size: 13px; margin: 1em; color: #111; background: #fff; }
h1 { font-size: 18px; } h2 { font-size: 15px; margin-top: 1.5em; }
pre.program { background: #f6f6f6; border: 1px solid #ddd; padding: 0.5em; }
table.trace { border-collapse: collapse; }
table.trace th { position: sticky; top: 0; background: #eee; text-align: left;
  border-bottom: 2px solid #999; }
table.trace th, table.trace td { padding: 1px 8px; border-left: 1px solid #ccc; vertical-align: top;
  white-space: pre-wrap; }
td.step { text-align: right; color: #666; }
td.kind { color: #666; }
td.ev { min-width: 20em; }
.gens { color: #555; }
.k-op td.ev, .legend .k-op { background: #dbeafe; }
.k-point td.ev, .legend .k-point { background: #f1f1f1; }
.k-wait td.ev, .legend .k-wait { background: #ffedd5; }
.k-lock td.ev, .legend .k-lock { background: #fef9c3; }
.k-folio td.ev, .legend .k-folio { background: #dcfce7; }
.k-io td.ev, .legend .k-io { background: #ede9fe; }
.k-note td.ev, .legend .k-note { background: #fafafa; }
.legend span { padding: 1px 6px; margin-right: 4px; border: 1px solid #ccc; }
tr.viol td.ev { outline: 2px solid #c00; font-weight: bold; }
div.violation { background: #fee2e2; border: 2px solid #c00; padding: 0.5em; }
div.violation p { margin: 0.2em 0; }
div.ok { background: #dcfce7; border: 1px solid #393; padding: 0.5em; }
</style>
</head>
<body>
<h1>pagerace trace</h1>
)";

}  // namespace

std::string DescribeHeaders(const std::vector<uint64_t>& headers, uint32_t file, uint32_t first_sector) {
  const size_t sectors = headers.size() / kHeaderWords;
  if (sectors == 0) return "";
  std::string out = "gens";
  for (size_t i = 0; i < sectors; ++i) {
    const uint64_t* w = headers.data() + i * kHeaderWords;
    out += ' ';
    if (w[0] == 0 && w[1] == 0 && w[2] == 0) {
      out += '0';
    } else if (w[0] >> 32 != kTagMagic32) {
      out += '?';
    } else {
      const uint64_t tag_file = w[0] & 0xffffffffu;
      if (tag_file != file || w[1] != uint64_t{first_sector} + i)
        out += "f" + std::to_string(tag_file) + "s" + std::to_string(w[1]) + "g";
      out += std::to_string(w[2]);
    }
  }
  return out;
}

std::string RenderSwimlane(const Program& program, const sched::Trace& trace, const CheckReport& report) {
  const Lanes lanes = LanesOf(program, trace);
  std::string out;
  // Header: "step kind | t0 | t1 ...".
  {
    const size_t start = out.size();
    PadLeft(out, "step", kStepWidth);
    out += ' ';
    PadRight(out, "kind", kKindWidth);
    for (size_t i = 0; i < lanes.count(); ++i) {
      out += " | ";
      PadRight(out, lanes.name(i), kTraceLaneWidth);
    }
    while (out.size() > start && out.back() == ' ') out.pop_back();
    out += '\n';
  }
  for (const sched::Event& e : trace.events) {
    std::string kind = sched::EventKindName(e.kind);
    if (IsViolationReader(e, report)) kind += '!';
    const std::vector<std::string> lines = CellLines(e);
    for (size_t i = 0; i < lines.size(); ++i)
      AppendRow(out, i == 0 ? std::to_string(e.step) : "", i == 0 ? kind : "", lanes, lanes.of(e), lines[i]);
  }
  out += "== violation ==\n";
  if (report.ok()) {
    out += "no violation\n";
    return out;
  }
  const size_t shown = std::min(report.violations.size(), kViolationsShown);
  for (size_t i = 0; i < shown; ++i) out += Printable(report.violations[i].ToString()) + "\n";
  const size_t total = std::max(report.total, report.violations.size());
  if (total > shown)
    out += "... " + std::to_string(total - shown) + " more (" + std::to_string(total) + " in all)\n";
  return out;
}

std::string RenderHtml(const Program& program, const sched::Trace& trace, const CheckReport& report) {
  const Lanes lanes = LanesOf(program, trace);
  std::string out(kHtmlHead);
  const std::string verdict =
      report.ok() ? std::string("no violation") : std::to_string(report.total) + " violation(s)";
  out += "<p>" + std::to_string(trace.events.size()) + " events, " + std::to_string(program.threads.size()) +
         " threads: " + verdict + "</p>\n";

  out += "<h2>Program</h2>\n<pre class=\"program\">";
  AppendEscaped(out, PrintText(program));
  out += "</pre>\n";

  out += "<h2>Timeline</h2>\n<p class=\"legend\">";
  for (sched::EventKind k : {sched::EventKind::kOp, sched::EventKind::kPoint, sched::EventKind::kWait,
                             sched::EventKind::kLock, sched::EventKind::kFolio, sched::EventKind::kIo,
                             sched::EventKind::kNote}) {
    const std::string name = sched::EventKindName(k);
    out += "<span class=\"k-" + name + "\">" + name + "</span>";
  }
  out += "</p>\n<table class=\"trace\">\n<thead><tr><th>step</th><th>kind</th>";
  for (size_t i = 0; i < lanes.count(); ++i) out += "<th>" + lanes.name(i) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const sched::Event& e : trace.events) {
    const std::string kind = sched::EventKindName(e.kind);
    out += "<tr class=\"k-" + kind + (IsViolationReader(e, report) ? " viol" : "") + "\">";
    out += "<td class=\"step\">" + std::to_string(e.step) + "</td><td class=\"kind\">" + kind + "</td>";
    const size_t lane = lanes.of(e);
    for (size_t i = 0; i < lanes.count(); ++i) {
      if (i != lane) {
        out += "<td></td>";
        continue;
      }
      out += "<td class=\"ev\">";
      AppendEscaped(out, e.text);
      const std::string summary = SummaryOf(e);
      if (!summary.empty()) {
        out += " <span class=\"gens\">[";
        AppendEscaped(out, summary);
        out += "]</span>";
      }
      out += "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";

  out += "<h2>Violation</h2>\n";
  if (report.ok()) {
    out += "<div class=\"ok\">no violation</div>\n";
  } else {
    out += "<div class=\"violation\">\n";
    const size_t shown = std::min(report.violations.size(), kViolationsShown);
    for (size_t i = 0; i < shown; ++i) {
      out += "<p>";
      AppendEscaped(out, report.violations[i].ToString());
      out += "</p>\n";
    }
    const size_t total = std::max(report.total, report.violations.size());
    if (total > shown)
      out += "<p>... " + std::to_string(total - shown) + " more (" + std::to_string(total) + " in all)</p>\n";
    out += "</div>\n";
  }
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace pagerace
