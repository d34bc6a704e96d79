// The per-sector linearizability checker. Reads a merged History and decides
// whether every observed sector could have been returned by some linear order
// of the operations consistent with their real-time (stamp) order. It knows
// nothing of the cache or the scheduler. Pure; safe from any thread.
//
// Rules, per sector s (writes and punches are writes; a punch writes zeros;
// the initial file is a zero write at stamp 0):
//  1. A read r observing the value of write w is valid iff w.invoke <
//     r.response and no write w' to s lies entirely between them
//     (w.response < w'.invoke and w'.response < r.invoke).
//  2. Reads that do not overlap must not go backwards in time, but for reads
//     that overlap a direct write of s: while it runs, the storage (what a
//     direct read sees) and the cache (which may hold a page filled before
//     the write's I/O, until its invalidation) differ; and for a read that
//     saw a store past the end of the file, which was never the file's data
//     (rule 5).
//  3. A sector may mix words of several writes (tearing) only if each of them
//     is valid for that read; otherwise it is TORN. With byte tearing (the
//     kernel target: the kernel copies page data with no lock against
//     concurrent writers, byte by byte as far as the oracle can tell), a word
//     may also mix bytes of several writes, each byte from one valid for the
//     read.
//  4. A whole sector naming another file or sector is FOREIGN; a word no write
//     of this sector produced is GARBAGE, or UNINIT if it is the pattern of
//     unfilled page-cache memory (tag.h).
//  5. The file's size is state too: per sector, whether it lies inside the
//     file, a register that size ops (truncate) write (inside below their
//     size, outside from it) and writes set inside up to their end. A read
//     sees inside what it returned and outside where it stopped short; a
//     mapped access sees a page's first sector inside where it went on, and
//     outside where it got SIGBUS. Each must be a value rule 1 allows (else
//     SIZE, or SIGBUS). A sector past the end reads as zeros once the file
//     grows again: a size op writes zeros from its size on. A store to a
//     sector that was outside the file throughout is no write of it (the
//     bytes are never the file's; only a read that overlaps the store may
//     copy them from the page), one that may have been is a write that may
//     or may not have taken effect, and a load of a sector that may have
//     been outside is not judged (it sees the page, not the file). Where
//     the page may keep such a store when the file grows (eof_tail_kept,
//     the kernel's), any later read may see it, or zeros, until a write of
//     the sector, a punch or zero of it inside the file, or a truncate
//     that shrank the file to it replaces it. A store that got SIGBUS may
//     have written part of the page it stopped at (a truncate unmapped it
//     in the middle of the copy): there it writes as past the end.
//  6. A direct write and a store through the mapping to the same page that
//     overlap in time collide: the kernel orders neither against the other,
//     and the page's old contents may later overwrite the direct write. From
//     the direct write's invoke, a read of such a sector may see any value
//     the sector held (rules 1 and 2 are waived for it; rules 3 and 4 hold).
//  7. A collapse or insert moves data: after a collapse of [A, A+N), sector
//     x >= A holds what x + N held; after an insert, [A, A+N) holds zeros and
//     x >= A+N what x - N held. Rules 1-6 apply to a sector's data wherever
//     the shifts took it (its lineage), not to the place. An op that overlaps
//     a shift of its file in time may have run on either side of it: its
//     writes may or may not have taken effect at each place, and its reads
//     are not judged; nor are any reads of a file whose shifts overlap each
//     other (their order is unknown). Data a shift moved away, seen where it
//     was, is STALE. A shifted file's size is not judged from the lowest
//     shift on (rule 5), since a shift moves the end by its count.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/oracle/history.h"

namespace pagerace {

enum class ViolationKind : uint8_t {
  kStale,     // old data after an operation that replaced it had completed
  kForeign,   // another file's or another sector's data
  kTorn,      // a mix of writes, one of which the read may not see
  kLost,      // the end-of-run check misses a completed write
  kGarbage,   // words no write produced
  kDeadlock,  // no thread can make progress (scheduler)
  kLivelock,  // threads ran past the scheduler's step bound
  kAssert,    // a model invariant failed (the kernel's BUG_ON/WARN_ON)
  kSigbus,    // a mapped access within the file's size got SIGBUS
  kUninit,    // page-cache memory that nothing filled (the model's unfilled-memory pattern)
  kSize,      // a read's length, or a mapped access past the end, that no order of the size changes explains
  kMaxValue = kSize,
};
const char* ViolationKindName(ViolationKind kind);

struct Violation {
  ViolationKind kind = ViolationKind::kStale;
  uint32_t file = 0;
  uint32_t sector = 0;
  uint64_t stamp = 0;     // the observing read's response stamp
  std::string reader;     // the op that observed it
  std::string observed;   // what it saw
  std::string expected;   // what it should have seen at least
  // One line: "STALE f0 s12: t1#3 read f0 s8+8 saw gen 5 (...); expected ...".
  std::string ToString() const;
};

struct CheckReport {
  std::vector<Violation> violations;  // earliest first (by stamp, file, sector); at most 16
  size_t total = 0;                   // all violations found
  bool ok() const { return total == 0; }
};

// What the target may do that the model does not (the kernel target sets both).
struct CheckOptions {
  bool byte_tearing = false;  // rule 3 at byte granularity
  // Folios of any size: rule 6's collision spans every page of the file, as
  // a store may dirty a folio that covers the direct write's pages too.
  bool large_folios = false;
  // The size every file starts with, in sectors (0: not known). A collapse
  // or insert that says what size it set found one no larger than this.
  uint32_t file_sectors = 0;
  // A store past the end of the file, in its last page, may stay in the
  // page and become the file's data when the file grows over it (rule 5):
  // tmpfs never zeroes that part of the page when the file grows, ext4 not
  // when a direct write grows it.
  bool eof_tail_kept = false;
  // A store that got SIGBUS may have written part of the page it got it on
  // (rule 5): the kernel copies into the mapping with no lock that truncate
  // takes, so a truncate may unmap the page in the middle of the copy. The
  // model decides SIGBUS at the fault, before it copies anything.
  bool sigbus_mid_page = false;
};

CheckReport CheckHistory(const History& history, const CheckOptions& options = {});

}  // namespace pagerace
