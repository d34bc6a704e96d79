#include "harness/program/text.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace pagerace {
namespace {

// Op names come only from OpTable(): the table is the single spelling of them.

constexpr std::string_view kMagic = "pagerace";
constexpr std::string_view kVersion = "1";
constexpr std::string_view kThreadWord = "thread";
constexpr char kComment = '#';
constexpr size_t kQuoteMax = 40;  // longer tokens are cut in error messages

constexpr std::string_view kScheduleWord = "schedule";
constexpr std::string_view kPreemptWord = "preempt";

enum class Key : uint8_t {
  kFiles, kFilePages, kRaPages, kRaFail, kPrefill, kFlusher, kBackend, kIo, kPoints, kFuse, kSeed, kPctDepth
};

// The spelling of value v of a key whose values are names: v is the enum's
// value, and program.h's name table spells it.
using NameOf = const char* (*)(uint64_t v);
const char* BackendNameOf(uint64_t v) { return BackendName(static_cast<BackendKind>(v)); }
const char* IoNameOf(uint64_t v) { return IoModeName(static_cast<IoMode>(v)); }
const char* PointsNameOf(uint64_t v) { return PointsName(static_cast<Points>(v)); }
const char* FuseNameOf(uint64_t v) { return FuseMountName(static_cast<uint8_t>(v)); }

struct KeyInfo {
  Key key;
  std::string_view name;
  uint64_t min;
  uint64_t max;
  NameOf name_of = nullptr;  // set: the values [min, max] are written as their names, not as numbers
  bool omit_zero = false;    // printed only when not 0 (a knob that one target reads)
};

// In the order PrintText prints them.
constexpr std::array<KeyInfo, 12> kKeys = {{
    {Key::kFiles, "files", 1, kFilesMax},
    {Key::kFilePages, "file-pages", 1, kFilePagesMax},
    {Key::kRaPages, "ra-pages", 0, kRaPagesMax},
    {Key::kRaFail, "ra-fail", 0, kRaFailMax},
    {Key::kPrefill, "prefill", 0, kPrefillMax},
    {Key::kFlusher, "flusher", 0, kFlusherMax},
    {Key::kBackend, "backend", 0, kBackendKinds - 1, BackendNameOf},
    {Key::kIo, "io", 0, kIoModes - 1, IoNameOf},
    {Key::kPoints, "points", 0, kPointsKinds - 1, PointsNameOf},
    {Key::kFuse, "fuse", 0, kFuseMounts - 1, FuseNameOf, /*omit_zero=*/true},  // the fuse target's
    {Key::kSeed, "seed", 0, std::numeric_limits<uint64_t>::max()},
    {Key::kPctDepth, "pct-depth", 1, kPctDepthMax},
}};

const KeyInfo* KeyFromName(std::string_view name) {
  for (const KeyInfo& info : kKeys)
    if (info.name == name) return &info;
  return nullptr;
}

uint64_t GetKey(const Program& p, Key key) {
  switch (key) {
    case Key::kFiles: return p.files;
    case Key::kFilePages: return p.file_pages;
    case Key::kRaPages: return p.ra_pages;
    case Key::kRaFail: return p.ra_fail;
    case Key::kPrefill: return p.prefill;
    case Key::kFlusher: return p.flusher;
    case Key::kBackend: return static_cast<uint64_t>(p.backend);
    case Key::kIo: return static_cast<uint64_t>(p.io);
    case Key::kPoints: return static_cast<uint64_t>(p.points);
    case Key::kFuse: return p.fuse;
    case Key::kSeed: return p.seed;
    case Key::kPctDepth: return p.schedule.pct_depth;
  }
  return 0;
}

// `value` has been range checked against the key's KeyInfo.
void SetKey(Program& p, Key key, uint64_t value) {
  switch (key) {
    case Key::kFiles: p.files = static_cast<uint8_t>(value); break;
    case Key::kFilePages: p.file_pages = static_cast<uint16_t>(value); break;
    case Key::kRaPages: p.ra_pages = static_cast<uint8_t>(value); break;
    case Key::kRaFail: p.ra_fail = static_cast<uint8_t>(value); break;
    case Key::kPrefill: p.prefill = static_cast<uint8_t>(value); break;
    case Key::kFlusher: p.flusher = static_cast<uint8_t>(value); break;
    case Key::kBackend: p.backend = static_cast<BackendKind>(value); break;
    case Key::kIo: p.io = static_cast<IoMode>(value); break;
    case Key::kPoints: p.points = static_cast<Points>(value); break;
    case Key::kFuse: p.fuse = static_cast<uint8_t>(value); break;
    case Key::kSeed: p.seed = value; break;
    case Key::kPctDepth: p.schedule.pct_depth = static_cast<uint8_t>(value); break;
  }
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Tokens are quoted in messages; inputs may be arbitrary fuzzer bytes, so
// keep messages printable and short.
std::string Quote(std::string_view s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kQuoteMax; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (s.size() > kQuoteMax) out += "...";
  return out + "'";
}

std::string OpNames() {
  std::string names;
  for (const OpInfo& info : OpTable()) names += (names.empty() ? "" : " ") + std::string(info.name);
  return names;
}

std::string KeyNames() {
  std::string names;
  for (const KeyInfo& info : kKeys) names += std::string(info.name) + " ";
  return names + std::string(kScheduleWord) + " " + std::string(kPreemptWord) + " " + std::string(kThreadWord);
}

struct Token {
  std::string_view text;
  uint32_t line = 1;
  uint32_t col = 1;  // 1-based byte column

  // The part of the token from byte `offset` on, keeping its true column.
  Token From(size_t offset) const {
    return {text.substr(offset), line, col + static_cast<uint32_t>(offset)};
  }
  // Where a missing next token would start: just past this one.
  Token After() const { return {{}, line, col + static_cast<uint32_t>(text.size())}; }
};

Status ErrorAt(const Token& at, const std::string& msg) {
  return Status::InvalidArgument(std::to_string(at.line) + ":" + std::to_string(at.col) + ": " + msg);
}

// Splits one line (without its '\n') into tokens, dropping any comment.
std::vector<Token> Tokenize(std::string_view line, uint32_t line_no) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < line.size() && line[i] != kComment) {
    if (IsBlank(line[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < line.size() && !IsBlank(line[i]) && line[i] != kComment) ++i;
    tokens.push_back({line.substr(start, i - start), line_no, static_cast<uint32_t>(start + 1)});
  }
  return tokens;
}

// The whole token must be a decimal number (or, with allow_hex, 0x hex) that
// fits in 64 bits. `what` names the value for the message.
Result<uint64_t> ParseNumber(const Token& tok, std::string_view what, bool allow_hex) {
  std::string_view digits = tok.text;
  int base = 10;
  if (allow_hex && digits.size() >= 2 && digits[0] == '0' && digits[1] == 'x') {
    digits.remove_prefix(2);
    base = 16;
  }
  if (digits.size() >= 2 && digits[0] == '-' && std::isdigit(static_cast<unsigned char>(digits[1])))
    return ErrorAt(tok, std::string(what) + " " + Quote(tok.text) + " is negative");
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (ec == std::errc::result_out_of_range)
    return ErrorAt(tok, std::string(what) + " " + Quote(tok.text) + " does not fit in 64 bits");
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    const char* kind = allow_hex ? "a decimal or 0x hex number" : "a decimal number";
    return ErrorAt(tok, "expected " + std::string(what) + " as " + kind + ", got " + Quote(tok.text));
  }
  return value;
}

// The whole token must be one of the key's names; the value is its index.
Result<uint64_t> ParseName(const Token& tok, const KeyInfo& key) {
  std::string names;
  for (uint64_t v = key.min; v <= key.max; ++v) {
    if (tok.text == key.name_of(v)) return v;
    names += std::string(names.empty() ? "" : " ") + key.name_of(v);
  }
  return ErrorAt(tok, "unknown " + std::string(key.name) + " " + Quote(tok.text) + " (expected one of: " + names +
                          ")");
}

std::string RangeText(uint64_t lo, uint64_t hi_exclusive) {
  return "[" + std::to_string(lo) + ", " + std::to_string(hi_exclusive) + ")";
}

using Tokens = std::span<const Token>;

// One use per text. Strict by design: texts are regression artifacts, so a
// typo must fail loudly rather than silently change the program. The first
// error ends the parse.
class Parser {
 public:
  Result<Program> Run(std::string_view text);

 private:
  Status ParseStatement(Tokens tokens);
  Status ParseVersion(Tokens tokens);
  Status ParseKey(const KeyInfo& key, Tokens tokens);
  Status ParseThread(Tokens tokens);
  Status ParseSchedule(Tokens tokens);
  Status ParsePreempt(Tokens tokens);
  Status ParseOp(OpKind kind, Tokens tokens);
  Status ParseFile(const Token& tok, Op& op) const;
  Status ParseSectors(const Token& tok, Op& op) const;
  Status ParseSize(const Token& tok, Op& op) const;

  Program program_;
  bool have_version_ = false;
  bool in_threads_ = false;
  bool schedule_seen_ = false;
  std::vector<Token> preempt_at_;  // where each preemption was written, for Validate's errors
  uint32_t keys_seen_ = 0;  // bit per Key
  size_t ops_ = 0;
};

// Errors for a missing token at `i` or for junk after the last expected one.
Status NeedToken(Tokens tokens, size_t i, const std::string& expected) {
  if (i < tokens.size()) return Status::Ok();
  return ErrorAt(tokens[i - 1].After(),
                 "expected " + expected + " after " + Quote(tokens[i - 1].text));
}

Status NeedEnd(Tokens tokens, size_t n, std::string_view statement) {
  if (tokens.size() <= n) return Status::Ok();
  return ErrorAt(tokens[n], "unexpected " + Quote(tokens[n].text) + " after " +
                                std::string(statement) + " (expected end of line)");
}

Result<Program> Parser::Run(std::string_view text) {
  program_.threads.clear();
  uint32_t line_no = 1;
  size_t pos = 0;
  Token end;  // end of input, for errors about what is missing
  while (true) {
    const size_t nl = text.find('\n', pos);
    const std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    const std::vector<Token> tokens = Tokenize(line, line_no);
    if (!tokens.empty()) PR_RETURN_IF_ERROR(ParseStatement(tokens));
    end = {{}, line_no, static_cast<uint32_t>(line.size() + 1)};
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
    ++line_no;
  }
  if (!have_version_)
    return ErrorAt(end, "expected 'pagerace 1' first, got end of input");
  if (program_.threads.empty())
    return ErrorAt(end, "expected at least one 'thread 0' section, got end of input");
  const ScheduleSpec& sc = program_.schedule;
  for (size_t i = 0; i < sc.preemptions.size(); ++i) {
    if (sc.strategy != Strategy::kDirected)
      return ErrorAt(preempt_at_[i], "'preempt' needs 'schedule directed'");
    if (sc.preemptions[i].thread >= program_.logical_threads())
      return ErrorAt(preempt_at_[i], "preemption to thread " + std::to_string(sc.preemptions[i].thread) +
                                         ", but the program has " + std::to_string(program_.threads.size()) +
                                         " threads" + (program_.flusher ? " and the flusher" : ""));
  }
  const Status valid = Validate(program_);
  if (!valid.ok()) return ErrorAt(end, valid.message());
  return std::move(program_);
}

Status Parser::ParseStatement(Tokens tokens) {
  const Token& word = tokens[0];
  if (!have_version_) {
    if (word.text != kMagic) return ErrorAt(word, "expected 'pagerace 1' first, got " + Quote(word.text));
    return ParseVersion(tokens);
  }
  if (word.text == kMagic) return ErrorAt(word, "duplicate 'pagerace' line (it must come once, first)");
  if (word.text == kThreadWord) return ParseThread(tokens);
  const bool header_statement =
      KeyFromName(word.text) != nullptr || word.text == kScheduleWord || word.text == kPreemptWord;
  if (header_statement && in_threads_)
    return ErrorAt(word, "header key " + Quote(word.text) +
                             " after the first thread (header keys go before 'thread 0')");
  if (word.text == kScheduleWord) return ParseSchedule(tokens);
  if (word.text == kPreemptWord) return ParsePreempt(tokens);
  if (const KeyInfo* key = KeyFromName(word.text)) return ParseKey(*key, tokens);
  const std::optional<OpKind> kind = OpKindFromName(word.text);
  const std::string quoted = Quote(word.text);
  if (!in_threads_) {
    if (kind) return ErrorAt(word, "op " + quoted + " before the first thread (expected 'thread 0' first)");
    return ErrorAt(word, "unknown key " + quoted + " (expected one of: " + KeyNames() + ")");
  }
  if (!kind) return ErrorAt(word, "unknown op kind " + quoted + " (expected one of: " + OpNames() + ")");
  return ParseOp(*kind, tokens);
}

Status Parser::ParseVersion(Tokens tokens) {
  PR_RETURN_IF_ERROR(NeedToken(tokens, 1, "the format version ('pagerace 1')"));
  if (tokens[1].text != kVersion)
    return ErrorAt(tokens[1], "unsupported format version " + Quote(tokens[1].text) + " (expected 1)");
  PR_RETURN_IF_ERROR(NeedEnd(tokens, 2, "'pagerace 1'"));
  have_version_ = true;
  return Status::Ok();
}

Status Parser::ParseKey(const KeyInfo& key, Tokens tokens) {
  const uint32_t bit = 1u << static_cast<uint32_t>(key.key);
  if (keys_seen_ & bit) return ErrorAt(tokens[0], "duplicate key " + Quote(key.name));
  PR_RETURN_IF_ERROR(NeedToken(tokens, 1, "a value"));
  const std::string name(key.name);
  const Result<uint64_t> value =
      key.name_of != nullptr ? ParseName(tokens[1], key) : ParseNumber(tokens[1], name, key.key == Key::kSeed);
  if (!value.ok()) return value.status();
  if (value.value() < key.min || value.value() > key.max)
    return ErrorAt(tokens[1], name + " " + std::to_string(value.value()) + " out of range [" +
                                  std::to_string(key.min) + ", " + std::to_string(key.max) + "]");
  PR_RETURN_IF_ERROR(NeedEnd(tokens, 2, name + " value"));
  keys_seen_ |= bit;
  SetKey(program_, key.key, value.value());
  return Status::Ok();
}

Status Parser::ParseSchedule(Tokens tokens) {
  if (schedule_seen_) return ErrorAt(tokens[0], "duplicate key 'schedule'");
  PR_RETURN_IF_ERROR(NeedToken(tokens, 1, "a strategy (random, pct or directed)"));
  const std::optional<Strategy> strategy = StrategyFromName(tokens[1].text);
  if (!strategy)
    return ErrorAt(tokens[1], "unknown schedule strategy " + Quote(tokens[1].text) +
                                  " (expected one of: random pct directed)");
  PR_RETURN_IF_ERROR(NeedEnd(tokens, 2, "the strategy"));
  schedule_seen_ = true;
  program_.schedule.strategy = *strategy;
  return Status::Ok();
}

// `preempt <step> t<thread>`: in step order, at most kPreemptionsMax.
Status Parser::ParsePreempt(Tokens tokens) {
  PR_RETURN_IF_ERROR(NeedToken(tokens, 1, "a step number"));
  const Result<uint64_t> step = ParseNumber(tokens[1], "step", false);
  if (!step.ok()) return step.status();
  if (step.value() > kPreemptStepMax)
    return ErrorAt(tokens[1], "step " + std::to_string(step.value()) + " out of range [0, " +
                                  std::to_string(kPreemptStepMax) + "]");
  std::vector<Preemption>& list = program_.schedule.preemptions;
  if (!list.empty() && step.value() < list.back().step)
    return ErrorAt(tokens[1], "preemptions must be in step order (step " + std::to_string(step.value()) +
                                  " after step " + std::to_string(list.back().step) + ")");
  PR_RETURN_IF_ERROR(NeedToken(tokens, 2, "a thread 't<N>'"));
  const Token& t = tokens[2];
  if (t.text.empty() || t.text[0] != 't') return ErrorAt(t, "expected a thread 't<N>', got " + Quote(t.text));
  const Result<uint64_t> thread = ParseNumber(t.From(1), "thread number", false);
  if (!thread.ok()) return thread.status();
  // Up to kThreadsMax: the flusher follows the last program thread.
  if (thread.value() > kThreadsMax)
    return ErrorAt(t, "thread " + std::to_string(thread.value()) + " out of range " +
                          RangeText(0, kThreadsMax + 1));
  PR_RETURN_IF_ERROR(NeedEnd(tokens, 3, "the preemption"));
  if (list.size() == kPreemptionsMax)
    return ErrorAt(tokens[0], "too many preemptions: at most " + std::to_string(kPreemptionsMax));
  list.push_back({static_cast<uint16_t>(step.value()), static_cast<uint8_t>(thread.value())});
  preempt_at_.push_back(tokens[0]);
  return Status::Ok();
}

Status Parser::ParseThread(Tokens tokens) {
  PR_RETURN_IF_ERROR(NeedToken(tokens, 1, "a thread number"));
  const Result<uint64_t> number = ParseNumber(tokens[1], "thread number", false);
  if (!number.ok()) return number.status();
  const size_t expected = program_.threads.size();
  if (expected == kThreadsMax)
    return ErrorAt(tokens[1], "too many threads: at most " + std::to_string(kThreadsMax));
  if (number.value() != expected)
    return ErrorAt(tokens[1], "thread " + std::to_string(number.value()) + " out of order (expected thread " +
                                  std::to_string(expected) + ")");
  PR_RETURN_IF_ERROR(NeedEnd(tokens, 2, "thread number"));
  program_.threads.emplace_back();
  in_threads_ = true;
  return Status::Ok();
}

Status Parser::ParseOp(OpKind kind, Tokens tokens) {
  Op op;
  op.kind = kind;
  PR_RETURN_IF_ERROR(NeedToken(tokens, 1, "a file 'f<N>'"));
  PR_RETURN_IF_ERROR(ParseFile(tokens[1], op));
  if (SetsSize(kind)) {
    PR_RETURN_IF_ERROR(NeedToken(tokens, 2, "a size 's<sectors>'"));
    PR_RETURN_IF_ERROR(ParseSize(tokens[2], op));
  } else {
    PR_RETURN_IF_ERROR(NeedToken(tokens, 2, "sectors 's<first>+<count>'"));
    PR_RETURN_IF_ERROR(ParseSectors(tokens[2], op));
  }
  PR_RETURN_IF_ERROR(NeedEnd(tokens, 3, "the op"));
  // Checked here rather than left to Validate() so the error names this op.
  if (ops_ == kOpsMax)
    return ErrorAt(tokens[0], "too many ops: at most " + std::to_string(kOpsMax) + " in all threads");
  ++ops_;
  program_.threads.back().push_back(op);
  return Status::Ok();
}

Status Parser::ParseFile(const Token& tok, Op& op) const {
  if (tok.text.empty() || tok.text[0] != 'f')
    return ErrorAt(tok, "expected a file 'f<N>', got " + Quote(tok.text));
  const Result<uint64_t> file = ParseNumber(tok.From(1), "file number", false);
  if (!file.ok()) return file.status();
  if (file.value() >= program_.files)
    return ErrorAt(tok, "file " + std::to_string(file.value()) + " out of range " +
                            RangeText(0, program_.files) + " (files " + std::to_string(program_.files) + ")");
  op.file = static_cast<uint8_t>(file.value());
  return Status::Ok();
}

// `s<first>+<count>`: a bad first sector is reported at the token, a bad
// count at the count itself.
Status Parser::ParseSectors(const Token& tok, Op& op) const {
  const size_t plus = tok.text.find('+');
  if (tok.text.empty() || tok.text[0] != 's' || plus == std::string_view::npos)
    return ErrorAt(tok, "expected sectors 's<first>+<count>', got " + Quote(tok.text));
  const Token first_tok = tok.From(1);
  const Result<uint64_t> first =
      ParseNumber({first_tok.text.substr(0, plus - 1), tok.line, first_tok.col}, "first sector", false);
  if (!first.ok()) return first.status();
  const Token count_tok = tok.From(plus + 1);
  const Result<uint64_t> count = ParseNumber(count_tok, "sector count", false);
  if (!count.ok()) return count.status();

  const uint64_t sectors = program_.file_sectors();
  const std::string first_text = std::to_string(first.value());
  const std::string count_text = std::to_string(count.value());
  if (first.value() >= sectors)
    return ErrorAt(tok, "sector " + first_text + " out of range " + RangeText(0, sectors));
  if (count.value() < 1 || count.value() > kOpSectorsMax)
    return ErrorAt(count_tok, "sector count " + count_text + " out of range [1, " +
                                  std::to_string(kOpSectorsMax) + "]");
  if (first.value() + count.value() > sectors)
    return ErrorAt(count_tok, "sectors " + first_text + "+" + count_text + " run past the end of the file (" +
                                  std::to_string(sectors) + " sectors)");
  const std::string page = std::to_string(kSectorsPerPage);
  const std::string what = Direct(op.kind) ? "a direct op" : std::string("'") + InfoOf(op.kind).name + "'";
  if (WholePages(op.kind) && first.value() % kSectorsPerPage != 0)
    return ErrorAt(tok, "sector " + first_text + " of " + what + " is not at a page (a multiple of " + page + ")");
  if (WholePages(op.kind) && count.value() % kSectorsPerPage != 0)
    return ErrorAt(count_tok, "sector count " + count_text + " of " + what + " is not whole pages (a multiple of " +
                                  page + ")");
  op.sector = static_cast<uint16_t>(first.value());
  op.count = static_cast<uint16_t>(count.value());
  return Status::Ok();
}

// A size op's `s<size>`: [0, file_sectors].
Status Parser::ParseSize(const Token& tok, Op& op) const {
  if (tok.text.empty() || tok.text[0] != 's' || tok.text.find('+') != std::string_view::npos)
    return ErrorAt(tok, "expected a size 's<sectors>', got " + Quote(tok.text));
  const Result<uint64_t> size = ParseNumber(tok.From(1), "size", false);
  if (!size.ok()) return size.status();
  const uint64_t sectors = program_.file_sectors();
  if (size.value() > sectors)
    return ErrorAt(tok, "size " + std::to_string(size.value()) + " out of range [0, " + std::to_string(sectors) +
                            "] (the file's " + std::to_string(sectors) + " sectors)");
  op.sector = static_cast<uint16_t>(size.value());
  op.count = 1;
  return Status::Ok();
}

}  // namespace

Result<Program> ParseText(std::string_view text) { return Parser().Run(SkipByteOrderMark(text)); }

std::string PrintText(const Program& program) {
  std::string out = std::string(kMagic) + " " + std::string(kVersion) + "\n";
  for (const KeyInfo& key : kKeys) {
    const uint64_t value = GetKey(program, key.key);
    if (key.omit_zero && value == 0) continue;
    out += std::string(key.name) + " ";
    if (key.name_of != nullptr) {
      out += key.name_of(value);
    } else if (key.key == Key::kSeed) {
      char hex[16];
      const auto [end, ec] = std::to_chars(std::begin(hex), std::end(hex), value, 16);
      out += "0x" + std::string(hex, end);
    } else {
      out += std::to_string(value);
    }
    out += "\n";
  }
  out += std::string(kScheduleWord) + " " + StrategyName(program.schedule.strategy) + "\n";
  for (const Preemption& p : program.schedule.preemptions)
    out += std::string(kPreemptWord) + " " + std::to_string(p.step) + " t" + std::to_string(p.thread) + "\n";
  for (size_t t = 0; t < program.threads.size(); ++t) {
    out += std::string(kThreadWord) + " " + std::to_string(t) + "\n";
    for (const Op& op : program.threads[t])
      out += std::string(InfoOf(op.kind).name) + " " + OpOperands(op) + "\n";
  }
  return out;
}

std::string_view SkipByteOrderMark(std::string_view bytes) {
  constexpr std::string_view kBom = "\xef\xbb\xbf";
  return bytes.substr(0, kBom.size()) == kBom ? bytes.substr(kBom.size()) : bytes;
}

bool LooksLikeText(std::string_view bytes) {
  bytes = SkipByteOrderMark(bytes);
  size_t i = 0;
  while (i < bytes.size()) {
    if (IsBlank(bytes[i]) || bytes[i] == '\n') {
      ++i;
    } else if (bytes[i] == kComment) {
      const size_t nl = bytes.find('\n', i);
      i = nl == std::string_view::npos ? bytes.size() : nl + 1;
    } else {
      break;
    }
  }
  const std::string_view rest = bytes.substr(i);
  if (rest.size() < kMagic.size()) return false;
  for (size_t k = 0; k < kMagic.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(rest[k])) != kMagic[k]) return false;
  return true;
}

}  // namespace pagerace
