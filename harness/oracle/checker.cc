#include "harness/oracle/checker.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <tuple>
#include <utility>

namespace pagerace {
namespace {

constexpr size_t kViolationsKept = 16;

// A write as the checker sees it. `op` is null for the initial zero write.
struct Writer {
  const OpRecord* op;
  uint64_t invoke;
  uint64_t response;
  uint64_t gen;  // 0: writes zeros (initial, punch)
  bool zero;
  // A store to the last page past the end of the file: never the file's
  // data, but a read that overlaps it copies the page (as the kernel's
  // lockless copy does while a truncate runs) and may see it.
  bool transient = false;
  // A store that may have been past the end (the size changes that overlap
  // it allow either): its data may be file data or not, so a read that saw
  // it says nothing of the file's order either.
  bool maybe_transient = false;
  // The sector it wrote at, which its data's tags name: where a collapse or
  // insert moved the data since, not the sector a read finds it at.
  uint32_t sector = 0;
  // Whether it surely replaced, in the page, a transient store before it:
  // every write of data does; a punch or zero only of a sector surely
  // inside the file (ext4 punches nothing at or past the end), a truncate
  // only if it surely shrank the file (tmpfs zeroes nothing when the file
  // grows). See CheckOptions::eof_tail_kept.
  bool replaces_tail = true;
};

struct ReadRef {
  const OpRecord* op;
  uint32_t at;         // index into op->observed
  uint32_t raw_index;  // index of this sector among op's kMixed sectors
};

struct SectorHistory {
  std::vector<Writer> writers;  // writers[0] is the initial zero write
  std::vector<ReadRef> reads;
  // Rule 6: the invoke of the first direct write of the sector that a store
  // to its page overlapped, or never.
  uint64_t collided = kStampNever;
  bool direct = false;  // a direct write of the sector is among the writers
};

std::string DescribeWriter(const Writer& w) {
  if (w.op == nullptr) return "the initial zero";
  std::string s = w.zero ? "zeros of " : "gen " + std::to_string(w.gen) + " of ";
  return s + w.op->Describe();
}

// One value a read observed in a sector: the zeros of any zero writer, one
// writer's generation, or (zero false, writer null) the header words 0-1 that
// every write of the sector shares, which any non-zero writer may have
// produced.
struct Value {
  bool zero = false;
  const Writer* writer = nullptr;
  bool operator<(const Value& o) const {
    return std::pair(zero, writer) < std::pair(o.zero, o.writer);
  }
};

// A read that passed rule 1, for rule 2: [a, b] bounds what it saw (span);
// `value` is what it saw when that is one value (single).
struct Seen {
  const ReadRef* ref;
  std::pair<uint64_t, uint64_t> span;
  bool single;
  Value value;
};

class SectorChecker {
 public:
  // `h` is one sector's history: its lineage, the sector itself unless a
  // collapse or insert moved data (rule 7); each read and write in it
  // carries the sector it reached. `by_gen` (with a shift in the history,
  // else null): the write of each generation to this file, to name data a
  // shift should have moved.
  SectorChecker(uint32_t file, const SectorHistory& h, const CheckOptions& options,
                const std::vector<const OpRecord*>* by_gen, CheckReport& report)
      : file_(file), h_(h), options_(options), by_gen_(by_gen), report_(report) {}

  void Run() {
    thread_local std::vector<Seen> spans;
    thread_local std::vector<Value> values;
    spans.clear();
    for (const ReadRef& r : h_.reads) {
      values.clear();
      // After a collision (rule 6) the sector may hold any value it held
      // before: only what no write made is wrong.
      const bool collided = r.op->response > h_.collided;
      const Writer& must = collided ? h_.writers[0] : *MustSee(*r.op);
      if (!Attribute(r, must, values)) continue;
      if (!CheckValues(r, values, must)) continue;
      if (collided || DuringDirectWrite(*r.op)) continue;
      // A store past the end of the file is never its data: a read that
      // copied it from the page says nothing of the file's order (rule 5),
      // nor does one that saw a store that may have lain past it.
      if (std::any_of(values.begin(), values.end(), [](const Value& v) {
            return v.writer != nullptr && (v.writer->transient || v.writer->maybe_transient);
          }))
        continue;
      // The durable file lags the cache by design: fsync's observation is
      // judged by rule 1 alone.
      if (OpRecord::Syncs(r.op->kind)) continue;
      const bool single = values.size() == 1 && (values[0].zero || values[0].writer != nullptr);
      spans.push_back({&r, Span(r, values, must), single, single ? values[0] : Value{}});
    }
    CheckMonotonic(spans);
  }

 private:
  // The write of generation `gen` at `sector` (one op that a shift may
  // have run before or after writes this history at two sectors).
  const Writer* FindGen(uint64_t gen, uint32_t sector) const {
    for (const Writer& w : h_.writers)
      if (!w.zero && w.gen == gen && w.sector == sector) return &w;
    return nullptr;
  }

  static uint32_t SectorOf(const ReadRef& r) { return r.op->sector + r.at; }

  // Whether the tag names a write of this file that is not of this history:
  // a shift moved it to another sector's.
  bool MovedAway(const SectorTag& tag) const {
    if (by_gen_ == nullptr || tag.gen >= by_gen_->size()) return false;
    const OpRecord* w = (*by_gen_)[tag.gen];
    return w != nullptr && w->file == file_ && w->sector <= tag.sector && tag.sector < w->sector + w->count;
  }

  // Whether some write of this history wrote at `sector`.
  bool WrittenAt(uint32_t sector) const {
    for (const Writer& w : h_.writers)
      if (!w.zero && w.sector == sector) return true;
    return false;
  }

  // Rule 2 does not hold across a direct write of the sector: while it
  // runs, the storage and the cache differ. A direct read may see its data
  // on the storage, then a read through the cache the page it is about to
  // invalidate, which a read or fault filled before the I/O. Such reads are
  // judged by rule 1 alone.
  bool DuringDirectWrite(const OpRecord& r) const {
    if (!h_.direct) return false;
    for (const Writer& w : h_.writers)
      if (w.op != nullptr && w.op->kind == OpKind::kDioWrite && w.invoke < r.response && r.invoke < w.response)
        return true;
    return false;
  }

  // Fills `values` with what the read saw; false if it already reported.
  bool Attribute(const ReadRef& r, const Writer& must, std::vector<Value>& values) {
    const SectorTag& tag = r.op->observed[r.at];
    if (tag.kind == SectorTag::kZero) {
      values.push_back({true, nullptr});
      return true;
    }
    if (tag.kind == SectorTag::kUninit) {
      ReportUninit(r, tag.file, tag.sector);
      return false;
    }
    if (tag.kind == SectorTag::kWhole) {
      const Writer* w = tag.file == file_ ? FindGen(tag.gen, tag.sector) : nullptr;
      if (w == nullptr && tag.file == file_ && MovedAway(tag)) {
        Report(ViolationKind::kStale, r,
               "gen " + std::to_string(tag.gen) + " of s" + std::to_string(tag.sector) +
                   ", data a collapse or insert moved away",
               "what the moves put at s" + std::to_string(SectorOf(r)));
        return false;
      }
      if (w == nullptr && (tag.file != file_ || (!WrittenAt(tag.sector) && tag.sector != SectorOf(r)))) {
        Report(ViolationKind::kForeign, r,
               "the sector of f" + std::to_string(tag.file) + " s" + std::to_string(tag.sector) +
                   " gen " + std::to_string(tag.gen),
               "data of f" + std::to_string(file_) + " s" + std::to_string(SectorOf(r)));
        return false;
      }
      if (w == nullptr) {
        Report(ViolationKind::kGarbage, r, "gen " + std::to_string(tag.gen) + ", never written here",
               "a write of this sector");
        return false;
      }
      values.push_back({false, w});
      return true;
    }
    const uint64_t* words = r.op->raw.data() + size_t{r.raw_index} * kSectorWords;
    const bool written = std::any_of(h_.writers.begin(), h_.writers.end(),
                                     [](const Writer& w) { return !w.zero; });
    for (uint32_t k = 0; k < kSectorWords; ++k) {
      const uint64_t word = words[k];
      // Words 0 and 1 are the same in every write of a sector, so they name
      // no single write: any write of the sector may have produced them. Word
      // 1 of sector 0 is even 0, as in a hole, so it may come from any writer
      // at all: it fits every read (the latest completed writer is always
      // valid) and must not count as zeros seen.
      if (written && k < 2 && Header(word, k)) {
        if (word != 0) values.push_back({false, nullptr});
        continue;
      }
      if (word == 0) {
        values.push_back({true, nullptr});
        continue;
      }
      const Writer* found = nullptr;
      for (const Writer& w : h_.writers)
        if (!w.zero && TagWord(file_, w.sector, w.gen, k) == word) found = &w;
      if (found == nullptr && word == UninitWord(file_, SectorOf(r), k)) {
        ReportUninit(r, file_, SectorOf(r));
        return false;
      }
      if (found == nullptr && options_.byte_tearing) {
        if (!AttributeBytes(r, must, k, word, written, values)) return false;
        continue;
      }
      if (found == nullptr) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "word %u = 0x%016llx%s", k, static_cast<unsigned long long>(word),
                      word == kFreedPoison ? " (a freed folio's poison)" : "");
        Report(ViolationKind::kGarbage, r, buf, "words of writes of this sector");
        return false;
      }
      values.push_back({false, found});
    }
    if (values.size() < 2) return true;
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end(),
                             [](const Value& a, const Value& b) { return !(a < b) && !(b < a); }),
                 values.end());
    return true;
  }

  // Whether word k (0 or 1) is the header of a write of this history.
  bool Header(uint64_t word, uint32_t k) const {
    for (const Writer& w : h_.writers)
      if (!w.zero && word == TagWord(file_, w.sector, 1, k)) return true;
    return false;
  }

  void ReportUninit(const ReadRef& r, uint32_t file, uint32_t sector) {
    Report(ViolationKind::kUninit, r,
           "unfilled memory of a folio of f" + std::to_string(file) + " p" + std::to_string(sector / kSectorsPerPage),
           "data some write or the initial file put there");
  }

  // Byte tearing: a word no single write produced must be, byte by byte,
  // bytes of writes the read may see. Adds each byte's valid sources to
  // `values` (more sources only widen what rule 2 allows); false if it
  // reported: GARBAGE for a byte no write of this sector produced, TORN for
  // one that only writes the read may not see produced.
  bool AttributeBytes(const ReadRef& ref, const Writer& must, uint32_t k, uint64_t word, bool written,
                      std::vector<Value>& values) {
    const OpRecord& r = *ref.op;
    auto byte_of = [](uint64_t w, uint32_t j) { return static_cast<uint8_t>(w >> (8 * j)); };
    for (uint32_t j = 0; j < 8; ++j) {
      const uint8_t b = byte_of(word, j);
      const Writer* invalid = nullptr;  // a source the read may not see
      bool valid = false, zero_source = false;
      auto consider = [&](const Value& v) {
        if (ValueValid(v, r, must)) {
          values.push_back(v);
          valid = true;
        } else if (v.writer != nullptr) {
          invalid = v.writer;
        } else {
          zero_source |= v.zero;
        }
      };
      if (b == 0) consider({true, nullptr});
      bool header = false;
      for (const Writer& w : h_.writers)
        header |= !w.zero && byte_of(TagWord(file_, w.sector, 1, k), j) == b;
      if (written && k < 2 && header) consider({false, nullptr});
      for (const Writer& w : h_.writers)
        if (!w.zero && byte_of(TagWord(file_, w.sector, w.gen, k), j) == b) consider({false, &w});
      if (valid) continue;
      char buf[64];
      std::snprintf(buf, sizeof buf, "byte %u of word %u = 0x%02x", j, k, b);
      if (invalid == nullptr && !zero_source) {
        Report(ViolationKind::kGarbage, ref, buf, "bytes of writes of this sector");
      } else {
        Report(ViolationKind::kTorn, ref,
               std::string(buf) + ", only from " + (invalid != nullptr ? DescribeWriter(*invalid) : "zeros"),
               DescribeWriter(must) + " or newer");
      }
      return false;
    }
    return true;
  }

  // Latest invoke among writes that completed before the read began: the read
  // must see that write or a later one.
  //
  // fsync's view of the durable file is bound less tightly, as the kernel's
  // is. (a) Not by a store through the mapping: the kernel makes the PTE
  // writable before it marks the folio dirty (finish_fault, then
  // fault_dirty_shared_page), so a store through a PTE that another thread's
  // fault just installed can complete before the folio is dirty, and the
  // fsync may not write it. (b) Not by what a punch or zero that overlaps the
  // fsync may discard: truncating the cache drops dirty folios before the
  // blocks are freed, and the fsync may return in between, with the disk
  // still as it was when the punch began.
  // (c) Not at all by a truncate that overlaps the fsync and cuts the
  // sector off: it drops dirty folios without writing them back, so the
  // disk may still hold any older value until it frees the blocks.
  const Writer* MustSee(const OpRecord& r) const {
    const bool durable = OpRecord::Syncs(r.kind);
    if (durable)
      for (const Writer& w : h_.writers)
        if (w.op != nullptr && SetsSize(w.op->kind) && w.invoke < r.response && w.response > r.invoke)
          return &h_.writers[0];
    uint64_t cut = r.invoke;
    if (durable)
      for (const Writer& w : h_.writers)
        if (w.zero && w.op != nullptr && w.invoke < r.response && w.response > r.invoke) cut = std::min(cut, w.invoke);
    const Writer* must = &h_.writers[0];
    for (const Writer& w : h_.writers)
      if (w.response < cut && w.invoke > must->invoke && !w.transient &&
          !(durable && w.op != nullptr && w.op->kind == OpKind::kStore))
        must = &w;
    return must;
  }

  bool Valid(const Writer& w, const OpRecord& r, const Writer& must) const {
    if (w.transient && w.response < r.invoke) return options_.eof_tail_kept && TailKept(w, r);
    return w.invoke < r.response && w.response >= must.invoke;
  }

  // Whether the page may still hold transient store `w` when read `r`
  // begins, the file having grown over it since: no write that surely
  // replaced it lies entirely between them. It is not the file's data
  // (never a must-see), so zeros stay valid too: the kernel may have zeroed
  // it (writeback past the end, xfs and btrfs when the file grows).
  bool TailKept(const Writer& w, const OpRecord& r) const {
    for (const Writer& x : h_.writers)
      if (&x != &w && x.op != nullptr && x.replaces_tail && w.response < x.invoke && x.response < r.invoke)
        return false;
    return true;
  }

  bool ValueValid(const Value& v, const OpRecord& r, const Writer& must) const {
    if (!v.zero && v.writer != nullptr) return Valid(*v.writer, r, must);
    for (const Writer& w : h_.writers)  // zeros: any zero writer; the header: any write
      if (w.zero == v.zero && Valid(w, r, must)) return true;
    return false;
  }

  bool CheckValues(const ReadRef& ref, const std::vector<Value>& values, const Writer& must) {
    const OpRecord& r = *ref.op;
    for (const Value& v : values) {
      if (ValueValid(v, r, must)) continue;
      ViolationKind kind = ViolationKind::kStale;
      if (values.size() > 1) {
        kind = ViolationKind::kTorn;
      } else if (!v.zero && v.writer != nullptr && v.writer->invoke >= r.response) {
        kind = ViolationKind::kGarbage;
      } else if (r.thread == kFinalThread && !must.zero) {
        kind = ViolationKind::kLost;
      }
      std::string seen = v.zero                ? std::string("zeros")
                         : v.writer != nullptr ? DescribeWriter(*v.writer)
                                               : std::string("the header words of a write");
      if (values.size() > 1) seen = "a mix of " + std::to_string(values.size()) + " writes incl. " + seen;
      Report(kind, ref, seen, DescribeWriter(must) + " or newer");
      return false;
    }
    return true;
  }

  // [a, b]: the earliest invoke the read may have seen, and the latest
  // response of anything it may have seen.
  std::pair<uint64_t, uint64_t> Span(const ReadRef& ref, const std::vector<Value>& values,
                                     const Writer& must) const {
    const OpRecord& r = *ref.op;
    uint64_t a = UINT64_MAX, b = 0;
    for (const Value& v : values) {
      // Header words say nothing of when: words 2.. of the same read bound it.
      if (!v.zero && v.writer == nullptr) continue;
      for (const Writer& w : h_.writers) {
        if (v.zero ? !w.zero : &w != v.writer) continue;
        if (!Valid(w, r, must)) continue;
        a = std::min(a, w.invoke);
        b = std::max(b, w.response);
      }
    }
    return {a, b};
  }

  // Rule 2: reads that do not overlap must not go backwards in time. (a) A
  // read that starts after another read ended must not see only writes that
  // ended before everything the earlier read could have seen. (b) If it sees
  // another value than the earlier read did, that value's write must be able
  // to come after the earlier read: a write that completed before the earlier
  // read began, which that read did not see, is overwritten for good.
  void CheckMonotonic(std::vector<Seen>& spans) {
    std::sort(spans.begin(), spans.end(),
              [](const Seen& x, const Seen& y) { return x.ref->op->response < y.ref->op->response; });
    // Over each prefix of `spans` (the reads that ended before some read
    // began): the latest start of what one of them saw, and the two latest
    // invokes among single-valued reads with different values.
    struct Prefix {
      uint64_t latest_start = 0;
      const Seen* top[2] = {nullptr, nullptr};  // top[1]'s value differs from top[0]'s
    };
    thread_local std::vector<Prefix> prefix;
    prefix.resize(spans.size());
    Prefix run;
    auto same = [](const Value& x, const Value& y) { return !(x < y) && !(y < x); };
    for (size_t i = 0; i < spans.size(); ++i) {
      const Seen& s = spans[i];
      run.latest_start = std::max(run.latest_start, s.span.first);
      if (s.single) {
        const uint64_t inv = s.ref->op->invoke;
        if (run.top[0] == nullptr || same(run.top[0]->value, s.value)) {
          if (run.top[0] == nullptr || inv > run.top[0]->ref->op->invoke) run.top[0] = &s;
        } else if (inv > run.top[0]->ref->op->invoke) {
          run.top[1] = run.top[0];
          run.top[0] = &s;
        } else if (run.top[1] == nullptr || inv > run.top[1]->ref->op->invoke) {
          run.top[1] = &s;
        }
      }
      prefix[i] = run;
    }
    for (const Seen& r2 : spans) {
      const uint64_t invoke = r2.ref->op->invoke;
      const size_t before = static_cast<size_t>(
          std::partition_point(spans.begin(), spans.end(),
                               [invoke](const Seen& x) { return x.ref->op->response < invoke; }) -
          spans.begin());
      if (before == 0) continue;
      const Prefix& p = prefix[before - 1];
      if (p.latest_start > r2.span.second) {
        for (size_t j = 0; j < before; ++j) {
          if (spans[j].span.first <= r2.span.second) continue;
          Report(ViolationKind::kStale, *r2.ref, "data older than an earlier read saw",
                 "what " + spans[j].ref->op->Describe() + " saw, or newer");
          return;
        }
      }
      if (!r2.single) continue;
      const Seen* r1 = p.top[0] != nullptr && !same(p.top[0]->value, r2.value) ? p.top[0] : p.top[1];
      if (r1 == nullptr || r1->ref->op->invoke <= r2.span.second) continue;
      const bool lost = r2.ref->op->thread == kFinalThread && !r1->value.zero;
      Report(lost ? ViolationKind::kLost : ViolationKind::kStale, *r2.ref,
             "a value overwritten before " + r1->ref->op->Describe() + " began",
             "what it saw, or newer");
      return;
    }
  }

  void Report(ViolationKind kind, const ReadRef& r, std::string observed, std::string expected) {
    ++report_.total;
    Violation v{kind, file_, SectorOf(r), r.op->response, r.op->Describe(), std::move(observed),
                std::move(expected)};
    report_.violations.push_back(std::move(v));
  }

  uint32_t file_;
  const SectorHistory& h_;
  const CheckOptions& options_;
  const std::vector<const OpRecord*>* by_gen_;
  CheckReport& report_;
};

// Whether an op reaches the file through its shared mapping: loads, stores
// and the end-of-run check's mapped pass.
bool Mapped(const OpRecord& r) {
  if (r.thread == kFinalThread) return r.index == static_cast<uint16_t>(FinalPass::kMapped);
  return r.kind == OpKind::kLoad || r.kind == OpKind::kStore;
}

// Whether it reads with read(2), which returns a length: through the page
// cache (the cached pass too) or O_DIRECT.
bool ReadsLength(const OpRecord& r) {
  if (r.thread == kFinalThread) return r.index == static_cast<uint16_t>(FinalPass::kCached);
  return r.thread != kSetupThread && (r.kind == OpKind::kRead || r.kind == OpKind::kDioRead);
}

// Rule 5: per sector, whether it lies inside the file, as the register that
// size ops and writes set (checker.h). Judged on each op's last sector seen
// inside and first seen outside (for a mapped access, the first sector of
// each page), which is what a length or a SIGBUS says.
// Kept between calls (thread_local), so that a run allocates nothing here
// once warm; a history without a size op costs one pass over it.
class SizePlane {
 public:
  void Reset(const History& history) {
    std::fill(std::begin(floor_), std::end(floor_), UINT32_MAX);
    std::fill(std::begin(shifted_), std::end(shifted_), false);
    for (uint32_t f = 0; f < kFilesMax; ++f) {
      writes_[f].clear();
      sizes_[f].clear();
    }
    focus_ = nullptr;
    for (const OpRecord& op : history) {
      if (ProgramOp(op) && SizeOp(op)) floor_[op.file] = std::min(floor_[op.file], SizeSet(op));
      // A collapse or insert whose size is not known (the host kernel's)
      // moves the end by its count from a size not known here either: from
      // its offset on, the file's size is not judged (below it the file
      // never ends: a collapse must end before the end).
      if (ProgramOp(op) && Shifts(op.kind) && op.Reached() > 0 && op.size == OpRecord::kSizeUnknown) {
        floor_[op.file] = std::min(floor_[op.file], op.sector);
        shifted_[op.file] = true;
      }
    }
    if (!active()) return;
    // Only files with a size op ask about writers (Possible).
    for (const OpRecord& op : history) {
      if (!ProgramOp(op) || floor_[op.file] == UINT32_MAX) continue;
      if (SizeOp(op)) {
        sizes_[op.file].push_back(&op);
      } else if ((op.kind == OpKind::kWrite || op.kind == OpKind::kWriteMapped || op.kind == OpKind::kDioWrite) &&
                 op.Reached() > 0) {
        writes_[op.file].push_back(&op);  // one that wrote nothing (a mapped buffer past the end) sets nothing
      }
    }
    for (uint32_t f = 0; f < kFilesMax; ++f) {
      std::sort(writes_[f].begin(), writes_[f].end(),
                [](const OpRecord* a, const OpRecord* b) { return End(*a) > End(*b); });
      std::sort(sizes_[f].begin(), sizes_[f].end(),
                [](const OpRecord* a, const OpRecord* b) { return a->response < b->response; });
    }
  }

  // Some op changed a size: without one every sector is inside throughout.
  bool active() const {
    for (uint32_t floor : floor_)
      if (floor != UINT32_MAX) return true;
    return false;
  }

  enum class Inside : uint8_t { kYes, kNo, kMaybe };
  // Whether sector s of the op's file lay inside the file throughout the op.
  Inside During(const OpRecord& r, uint32_t s) {
    const uint8_t bits = Possible(r, s);
    return bits == kIn ? Inside::kYes : bits == kOut ? Inside::kNo : Inside::kMaybe;
  }

  void Judge(const OpRecord& r, const CheckOptions& options, CheckReport& report) {
    // A read that failed observed nothing, not even a length.
    if (r.Reads() && r.observed.size() != r.Reached()) return;
    const uint32_t end = r.sector + r.Reached();
    if (ReadsLength(r)) {
      if (r.Reached() > 0) See(r, end - 1, true, report);
      if (r.Reached() < r.count) See(r, end, false, report);
    } else if (Mapped(r)) {
      for (uint32_t p = r.sector / kSectorsPerPage; r.Reached() > 0 && p <= (end - 1) / kSectorsPerPage; ++p)
        See(r, p * kSectorsPerPage, true, report);
      if (r.sigbus) See(r, end / kSectorsPerPage * kSectorsPerPage, false, report);
    } else if (ProgramOp(r) && SizeOp(r) && Shifts(r.kind)) {
      // The size a shift found is the one it set, less or more its count: a
      // size rule 5 allows then, and one the kernel lets it move (a
      // collapse ends before the end of the file, an insert starts before
      // it).
      const bool collapse = r.kind == OpKind::kCollapse;
      const uint32_t before = collapse ? r.size + r.count : r.size - r.count;
      const bool too_large = options.file_sectors != 0 && before > options.file_sectors;
      if (too_large || (collapse ? before <= r.sector + r.count : before <= r.sector || r.size < r.count)) {
        ++report.total;
        report.violations.push_back({ViolationKind::kSize, r.file, r.sector, r.response, r.Describe(),
                                     "a move from a size of s" + std::to_string(before),
                                     too_large  ? "a size no larger than the file's s" + std::to_string(options.file_sectors)
                                     : collapse ? std::string("a size past the range (else EINVAL)")
                                                : std::string("a size past the range's start (else EINVAL)")});
        return;
      }
      See(r, before - 1, true, report);
      if (before < options.file_sectors) See(r, before, false, report);
    }
  }

 private:
  static constexpr uint8_t kIn = 1, kOut = 2;

  static bool ProgramOp(const OpRecord& op) { return op.thread != kFinalThread && op.thread != kSetupThread; }
  // The ops that set the size register: truncate, and a collapse or insert
  // that moved data and says what size it set (the model's).
  static bool SizeOp(const OpRecord& op) {
    return SetsSize(op.kind) || (Shifts(op.kind) && op.Reached() > 0 && op.size != OpRecord::kSizeUnknown);
  }
  static uint32_t SizeSet(const OpRecord& op) { return SetsSize(op.kind) ? op.sector : op.size; }
  // A write sets [0, its end) inside (it extends the file); a size op sets
  // every sector, inside below its size and outside from it.
  static uint32_t End(const OpRecord& w) { return w.sector + w.Reached(); }

  // What sector s may have been for op r (bits kIn, kOut), as rule 1 has it:
  // any write of the register that began before r ended and did not end
  // before the last one that completed before r began.
  uint8_t Possible(const OpRecord& r, uint32_t s) {
    if (s < floor_[r.file]) return kIn;  // every writer sets it inside
    if (shifted_[r.file]) return kIn | kOut;
    Focus(r);
    // The writes that cover s are a prefix of each list (by end, descending).
    const auto covers = [s](const Reach& w) { return w.end > s; };
    const size_t done = std::partition_point(done_.begin(), done_.end(), covers) - done_.begin();
    const size_t begun = std::partition_point(begun_.begin(), begun_.end(), covers) - begun_.begin();
    // The last writer that completed before r began (none: the initial
    // size, the whole file), by its invoke.
    const bool must = size_done_ || done > 0;
    const uint64_t must_invoke = std::max(size_invoke_, done > 0 ? done_[done - 1].latest : 0);
    uint8_t bits = must ? 0 : kIn;
    if (begun > 0 && begun_[begun - 1].latest >= must_invoke) bits |= kIn;
    const auto from = std::partition_point(sizes_from_.begin(), sizes_from_.end(),
                                           [must_invoke](const SizesFrom& z) { return z.response < must_invoke; });
    if (from != sizes_from_.end()) bits |= (from->highest > s ? kIn : 0) | (from->lowest <= s ? kOut : 0);
    return bits;
  }

  // The writers of r's file as r sees them, made once for the op (During and
  // See ask about one op's sectors in a row): then a sector costs a few
  // binary searches, not a pass over every writer.
  void Focus(const OpRecord& r) {
    if (focus_ == &r) return;
    focus_ = &r;
    done_.clear();
    begun_.clear();
    for (const OpRecord* w : writes_[r.file]) {
      if (w->response < r.invoke)
        done_.push_back({End(*w), std::max(w->invoke, done_.empty() ? 0 : done_.back().latest)});
      if (w->invoke < r.response)
        begun_.push_back({End(*w), std::max(w->response, begun_.empty() ? 0 : begun_.back().latest)});
    }
    size_done_ = false;
    size_invoke_ = 0;
    sizes_from_.clear();
    for (const OpRecord* z : sizes_[r.file]) {
      if (z == &r) continue;  // a shift is judged by the size before it
      if (z->response < r.invoke) {
        size_done_ = true;
        size_invoke_ = std::max(size_invoke_, z->invoke);
      }
      if (z->invoke < r.response) sizes_from_.push_back({z->response, SizeSet(*z), SizeSet(*z)});
    }
    for (size_t i = sizes_from_.size(); i-- > 1;) {
      sizes_from_[i - 1].highest = std::max(sizes_from_[i - 1].highest, sizes_from_[i].highest);
      sizes_from_[i - 1].lowest = std::min(sizes_from_[i - 1].lowest, sizes_from_[i].lowest);
    }
  }

  void See(const OpRecord& r, uint32_t s, bool inside, CheckReport& report) {
    if (s < floor_[r.file] && inside) return;
    if ((Possible(r, s) & (inside ? kIn : kOut)) != 0) return;
    ++report.total;
    const std::string at = "s" + std::to_string(s);
    const std::string seen = inside ? at + " inside the file" : r.sigbus ? "SIGBUS at " + at : "the end of the file at " + at;
    const std::string expected = inside ? "the end of the file at or before " + at : at + " inside the file";
    report.violations.push_back({inside || !r.sigbus ? ViolationKind::kSize : ViolationKind::kSigbus, r.file, s,
                                 r.response, r.Describe(), seen, expected});
  }

  // A write's end, and the latest invoke (done_) or response (begun_) among
  // it and the writes before it in the list.
  struct Reach {
    uint32_t end;
    uint64_t latest;
  };
  // A size op by its response, and the highest and lowest size that it and
  // those after it in the list set.
  struct SizesFrom {
    uint64_t response;
    uint32_t highest, lowest;
  };

  uint32_t floor_[kFilesMax];                      // per file, the smallest size a size op sets (UINT32_MAX: none)
  bool shifted_[kFilesMax];                        // per file: a collapse or insert moved its end
  std::vector<const OpRecord*> writes_[kFilesMax];  // per file with a size op, by end, descending
  std::vector<const OpRecord*> sizes_[kFilesMax];   // per file, its size ops by response
  // For the focus op: the writes that completed before it began, and those
  // that began before it ended (as writes_); whether a size op completed
  // before it began, and the latest invoke of one that did; the size ops
  // that began before it ended (as sizes_).
  const OpRecord* focus_ = nullptr;
  std::vector<Reach> done_, begun_;
  bool size_done_ = false;
  uint64_t size_invoke_ = 0;
  std::vector<SizesFrom> sizes_from_;
};

// Collapse and insert move data (rule 7): after one, sector x holds what
// sector x + N (collapse) or x - N (insert) held before it. A sector's
// history follows its data: each (file, epoch, sector) maps to a lineage,
// where epoch e is the time after the file's e-th shift, and the table is
// keyed by lineage. A lineage a shift opens (an insert's range, the end a
// collapse frees) starts as zeros. An op that overlaps no shift of its file
// in time has one epoch; one that overlaps some may have run in any of
// several: its writes may or may not have taken effect in each, and its
// reads are not judged. Shifts of a file that overlap each other in time
// leave their order unknown: no read of that file is judged. Without a
// shift a lineage is the sector. The map reaches past the largest file by
// what the file's inserts may push past it, which a collapse may bring back
// (the host's file is not bounded by the program's pages).
class Lineages {
 public:
  static constexpr uint32_t kFileSectors = kFilePagesMax * kSectorsPerPage;

  void Reset(const History& history) {
    active_ = false;
    stride_ = kFileSectors;
    for (uint32_t f = 0; f < kFilesMax; ++f) {
      shifts_[f].clear();
      maps_[f].clear();
      tangled_[f] = false;
    }
    for (const OpRecord& op : history)
      if (Shifts(op.kind) && op.thread != kFinalThread && op.thread != kSetupThread && op.Reached() > 0)
        shifts_[op.file].push_back(&op);
    for (uint32_t f = 0; f < kFilesMax; ++f) {
      std::vector<const OpRecord*>& list = shifts_[f];
      if (list.empty()) continue;
      active_ = true;
      std::sort(list.begin(), list.end(),
                [](const OpRecord* a, const OpRecord* b) { return a->response < b->response; });
      for (size_t i = 1; i < list.size(); ++i) tangled_[f] |= list[i]->invoke < list[i - 1]->response;
      // Epoch 0 is the sectors themselves; each shift opens fresh lineages.
      uint32_t length = kFileSectors;
      for (const OpRecord* z : list) length += z->kind == OpKind::kInsert ? z->count : 0;
      std::vector<std::vector<uint32_t>>& maps = maps_[f];
      maps.resize(list.size() + 1);
      maps[0].resize(length);
      for (uint32_t x = 0; x < length; ++x) maps[0][x] = x;
      uint32_t next = length;
      for (size_t e = 0; e < list.size(); ++e) {
        const OpRecord& z = *list[e];
        const std::vector<uint32_t>& from = maps[e];
        std::vector<uint32_t>& to = maps[e + 1];
        to.resize(length);
        for (uint32_t x = 0; x < length; ++x) {
          if (x < z.sector) {
            to[x] = from[x];
          } else if (z.kind == OpKind::kCollapse) {
            to[x] = x + z.count < length ? from[x + z.count] : next++;
          } else {
            to[x] = x < z.sector + z.count ? next++ : from[x - z.count];
          }
        }
      }
      stride_ = std::max(stride_, next);
    }
  }

  bool active() const { return active_; }
  // Keys are file * stride() + lineage.
  uint32_t stride() const { return stride_; }

  // The epochs op may have run in, [first, last]; for the end-of-run check
  // and the set-up, the last and the first.
  std::pair<uint32_t, uint32_t> Epochs(const OpRecord& op) const {
    const std::vector<const OpRecord*>& list = shifts_[op.file];
    if (list.empty() || op.thread == kSetupThread) return {0, 0};
    const uint32_t n = static_cast<uint32_t>(list.size());
    if (op.thread == kFinalThread) return {n, n};
    uint32_t first = 0, last = 0;
    for (const OpRecord* z : list) {
      first += z->response < op.invoke;
      last += z->invoke < op.response;
    }
    return {first, last};
  }

  // Whether the reads of op are judged: its epoch is known.
  bool Certain(const OpRecord& op) const {
    if (shifts_[op.file].empty()) return true;
    if (tangled_[op.file]) return false;
    const auto [first, last] = Epochs(op);
    return first == last;
  }

  // How far a file's map reaches: a size op cuts everything from its size
  // to there (the data inserts pushed past the largest file too).
  uint32_t Length(uint32_t file) const {
    return maps_[file].empty() ? kFileSectors : static_cast<uint32_t>(maps_[file][0].size());
  }

  // The key of sector x of op's file in epoch e.
  uint32_t Key(uint32_t file, uint32_t epoch, uint32_t x) const {
    const std::vector<std::vector<uint32_t>>& maps = maps_[file];
    return file * stride_ + (maps.empty() ? x : maps[epoch][x]);
  }

 private:
  bool active_ = false;
  uint32_t stride_ = kFileSectors;
  std::vector<const OpRecord*> shifts_[kFilesMax];  // per file, its shifts that moved data, by response
  std::vector<std::vector<uint32_t>> maps_[kFilesMax];  // per file and epoch: sector -> lineage
  bool tangled_[kFilesMax] = {};
};

// Rule 6: a direct write and a store through the mapping to the same page
// that overlap in time collide. Direct I/O takes no lock that stores take,
// so the store may fault the page in from the storage before the write's
// I/O and dirty it before the invalidation after the I/O, which then fails
// (the kernel warns: "Possible data corruption due to collision with
// buffered I/O"); or writeback may write it back in between. Either way the
// page's old contents may later overwrite the write on the storage. From
// the direct write's invoke, a read of such a sector may see any value the
// sector held. Where folios may be larger than a page (the kernel's), the
// store's folio may cover any page of the write: every sector collides.
void MarkCollisions(const History& history, const CheckOptions& options, const Lineages& lineages,
                    std::vector<SectorHistory>& table) {
  for (const OpRecord& w : history) {
    if (w.kind != OpKind::kDioWrite || w.thread == kFinalThread || w.thread == kSetupThread) continue;
    for (const OpRecord& s : history) {
      if (s.kind != OpKind::kStore || s.file != w.file || s.invoke > w.response || w.invoke > s.response) continue;
      uint32_t first = w.sector, end = w.sector + w.count;
      if (!options.large_folios) {  // the store's pages only
        first = std::max(first, s.sector / kSectorsPerPage * kSectorsPerPage);
        end = std::min(end, (s.sector + s.count + kSectorsPerPage - 1) / kSectorsPerPage * kSectorsPerPage);
      }
      const auto [e0, e1] = lineages.Epochs(w);
      for (uint32_t e = e0; e <= e1; ++e) {
        for (uint32_t sector = first; sector < end; ++sector) {
          SectorHistory& h = table[lineages.Key(w.file, e, sector)];
          if (!h.writers.empty()) h.collided = std::min(h.collided, w.invoke);
        }
      }
    }
  }
}

}  // namespace

const char* ViolationKindName(ViolationKind kind) {
  static const char* const kNames[] = {"STALE",    "FOREIGN", "TORN",   "LOST",   "GARBAGE", "DEADLOCK",
                                       "LIVELOCK", "ASSERT",  "SIGBUS", "UNINIT", "SIZE"};
  static_assert(std::size(kNames) == static_cast<size_t>(ViolationKind::kMaxValue) + 1);
  return kNames[static_cast<int>(kind)];
}

std::string Violation::ToString() const {
  if (kind == ViolationKind::kDeadlock || kind == ViolationKind::kLivelock)
    return std::string(ViolationKindName(kind)) + ": " + reader + ": " + observed;
  return std::string(ViolationKindName(kind)) + " f" + std::to_string(file) + " s" +
         std::to_string(sector) + ": " + reader + " saw " + observed + "; expected " + expected;
}

CheckReport CheckHistory(const History& history, const CheckOptions& options) {
  // Every sector's history in one flat table, kept (with the capacity of its
  // vectors) between calls: a run allocates nothing here once warm.
  thread_local std::vector<SectorHistory> table;
  thread_local std::vector<uint32_t> used;  // keys of the sectors some read observed
  for (uint32_t key : used) {
    table[key].writers.clear();
    table[key].reads.clear();
    table[key].collided = kStampNever;
    table[key].direct = false;
  }
  used.clear();
  thread_local Lineages lineages;
  lineages.Reset(history);
  if (table.size() < size_t{kFilesMax} * lineages.stride()) table.resize(size_t{kFilesMax} * lineages.stride());
  thread_local SizePlane size;
  size.Reset(history);
  const bool sizes = size.active();
  // Only sectors that some read observed are judged: the reads make their
  // entries (with the initial zero write), then the writes join those. A
  // mapped load of a sector that may have lain past the end of the file saw
  // the page, not the file: it is not judged.
  for (const OpRecord& op : history) {
    if (!op.Reads() || !lineages.Certain(op)) continue;
    const uint32_t epoch = lineages.Epochs(op).first;
    uint32_t raw_index = 0;
    for (uint32_t i = 0; i < op.observed.size(); ++i) {
      const uint32_t at = raw_index;
      raw_index += op.observed[i].kind == SectorTag::kMixed;
      if (sizes && Mapped(op) && size.During(op, op.sector + i) != SizePlane::Inside::kYes) continue;
      const uint32_t key = lineages.Key(op.file, epoch, op.sector + i);
      SectorHistory& h = table[key];
      if (h.writers.empty()) {
        h.writers.push_back({nullptr, 0, 0, 0, true});
        used.push_back(key);
      }
      h.reads.push_back({&op, i, at});
    }
  }
  for (const OpRecord& op : history) {
    if (!op.Writes()) continue;
    uint32_t sectors = OpRecord::WritesData(op.kind) ? op.Reached() : op.count;
    if (SetsSize(op.kind)) sectors = std::max(sectors, lineages.Length(op.file) - op.sector);
    // A store that stopped on SIGBUS may have written part of the page it
    // stopped at, where a truncate unmapped the page in the middle of the
    // copy (CheckOptions::sigbus_mid_page). There it writes as past the end
    // of the file (the truncate drops or zeroes the page): only reads that
    // overlap the store may see it.
    uint32_t stopped = sectors;
    if (options.sigbus_mid_page && op.kind == OpKind::kStore && op.sigbus)
      stopped = std::min(op.count, ((op.sector + sectors) / kSectorsPerPage + 1) * kSectorsPerPage - op.sector);
    // A write whose epoch is not known may have taken effect in any of them,
    // or (in the others) not at all.
    const auto [first_epoch, last_epoch] = lineages.Epochs(op);
    for (uint32_t epoch = first_epoch; epoch <= last_epoch; ++epoch)
    for (uint32_t i = 0; i < stopped; ++i) {
      SectorHistory& h = table[lineages.Key(op.file, epoch, op.sector + i)];
      if (h.writers.empty()) continue;  // no read observed this sector
      if (i >= sectors) {
        h.writers.push_back({&op, op.invoke, op.response, op.gen, false, true, false, op.sector + i});
        continue;
      }
      uint64_t response = first_epoch == last_epoch ? op.response : kStampNever;
      bool maybe_transient = false;
      if (sizes && op.kind == OpKind::kStore) {
        // A store past the end of the file is no write of it (only reads
        // that overlap it may see it); one that may have been past it may
        // or may not have taken effect.
        const SizePlane::Inside inside = size.During(op, op.sector + i);
        if (inside == SizePlane::Inside::kNo) {
          h.writers.push_back({&op, op.invoke, op.response, op.gen, false, true, false, op.sector + i});
          continue;
        }
        if (inside == SizePlane::Inside::kMaybe) response = kStampNever, maybe_transient = true;
      }
      Writer& w = h.writers.emplace_back(Writer{&op, op.invoke, response, op.gen, OpRecord::WritesZeros(op.kind),
                                                false, maybe_transient, op.sector + i});
      h.direct |= op.kind == OpKind::kDioWrite;
      // Zeros replace a store past the end only where the file surely
      // reached (a truncate: past its size, so it shrank the file).
      if (sizes && w.zero)
        w.replaces_tail = size.During(op, SetsSize(op.kind) ? op.sector : op.sector + i) == SizePlane::Inside::kYes;
    }
  }
  MarkCollisions(history, options, lineages, table);
  CheckReport report;
  if (sizes) {
    for (const OpRecord& op : history) size.Judge(op, options, report);
  } else {
    // Without a size op the file keeps its whole size: nothing may stop short.
    for (const OpRecord& op : history)
      if ((ReadsLength(op) || Mapped(op)) && (op.Reached() < op.count || op.sigbus)) size.Judge(op, options, report);
  }
  // Any order: the violations are sorted below by (stamp, file, sector), which
  // is unique (one finding per read and sector). The writes by generation
  // are per file: every file's prefill has the same generation.
  thread_local std::vector<const OpRecord*> by_gen[kFilesMax];
  for (std::vector<const OpRecord*>& gens : by_gen) gens.clear();
  if (lineages.active()) {
    for (const OpRecord& op : history) {
      if (!OpRecord::WritesData(op.kind)) continue;
      std::vector<const OpRecord*>& gens = by_gen[op.file];
      if (gens.size() <= op.gen) gens.resize(op.gen + 1);
      gens[op.gen] = &op;
    }
  }
  for (uint32_t key : used) {
    const uint32_t file = key / lineages.stride();
    SectorChecker(file, table[key], options, lineages.active() ? &by_gen[file] : nullptr, report).Run();
  }
  std::sort(report.violations.begin(), report.violations.end(), [](const Violation& a, const Violation& b) {
    return std::tie(a.stamp, a.file, a.sector) < std::tie(b.stamp, b.file, b.sector);
  });
  if (report.violations.size() > kViolationsKept) report.violations.resize(kViolationsKept);
  return report;
}

}  // namespace pagerace
