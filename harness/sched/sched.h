// Scheduling: the sync primitives the page-cache model uses and the named
// scheduling points at its race windows. Every lock, wait and named point of
// the model goes through here, so that a scheduler can perturb (free mode) or
// decide (controlled mode) the interleaving.
//
// Free mode: real OS threads. At a scheduling point a thread may yield or
// spin for a while, drawn from its own seeded generator (jitter), so race
// windows open wide without changing what the model does.
// Controlled mode (while a Controller runs on this OS thread, controller.h):
// the logical threads are fibers; every primitive here is a scheduling point
// and blocks cooperatively, so the controller decides every interleaving.
// Thread-safety: primitives are safe from any thread; SetThreadJitter and
// ThreadRng act on the calling thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "harness/base/rng.h"

namespace pagerace::sched {

// Named scheduling points at the race windows (docs/model.md §4).
enum class Point : uint8_t {
  kCreateAfterAdd,      // filemap_create_folio: folio added, before ->read_folio
  kReadFolioBeforeIo,   // ->read_folio: blocks mapped, before the I/O
  kReadaheadAfterAdd,   // page_cache_ra_unbounded: folio added to the batch
  kUpdateBeforeRead,    // filemap_update_page: locked, checked, before ->read_folio
  kPunchAfterTruncate,  // punch: page cache truncated, blocks not yet freed
  kWritebackBeforeIo,   // writeback: folio cleaned and unlocked, before the I/O
  kMkwriteBeforeDirty,  // page_mkwrite: blocks mapped, before the fault dirties and maps
  kDirectBeforeIo,      // direct I/O: the range written back (and invalidated), before the I/O
  kShiftBeforeMove,     // collapse/insert: page cache truncated from the offset, blocks not yet moved
  kBackendIo,           // before any other backend call (fadvise)
  kOpStart,             // between two ops of a thread (a system call boundary)
  kLockAcquire,         // before any lock or wait of the model
  // Before every other transition another thread can observe (a folio flag
  // read or changed, a folio looked up, inserted, removed or referenced, page
  // data copied, a backend I/O's transfer): with a point before each such
  // action, every interleaving of them that real threads allow is a
  // controlled schedule. Not traced: there are too many.
  kState,
  kMaxValue = kState,
};
const char* PointName(Point point);

// How eagerly a thread perturbs its schedule at named points: the chance, in
// 1/1024, of a pause at a named point (kLockAcquire uses a quarter of it,
// kState a sixteenth).
struct Jitter {
  uint32_t pause_per_1024 = 0;
  uint32_t spin_max = 0;  // a pause spins up to this many iterations, or yields
  bool state_points = true;  // kState points too (a program's Points::kEvery)
};

// Seeds the calling thread's generator and sets its jitter.
void SetThreadJitter(uint64_t seed, Jitter jitter);

// The calling thread's seeded generator, for model decisions that must be a
// function of the seed (e.g. which readahead I/O fails fast).
Rng& ThreadRng();

// True while a controlled scheduler runs this thread's code.
bool Controlled();

// A scheduling point: in free mode maybe pauses the calling thread.
void At(Point point);

// A lock's name for reports and traces: its class, qualified by the file it
// belongs to ("f0.i_rwsem").
class LockName {
 public:
  explicit LockName(const char* cls, int file = -1);
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// A mutex (xa_lock and the like).
class Mutex {
 public:
  explicit Mutex(const char* cls = "mutex", int file = -1) : name_(cls, file) {}
  void Lock();
  void Unlock();

 private:
  std::mutex mu_;          // free mode
  LockName name_;
  bool held_ = false;      // controlled mode (one OS thread)
};

// A read-write semaphore (i_rwsem, invalidate_lock). In free mode a
// std::shared_mutex, so ThreadSanitizer sees both the happens-before and the
// lock order.
class RwSem {
 public:
  explicit RwSem(const char* cls = "rwsem", int file = -1) : name_(cls, file) {}
  void Lock();
  void Unlock();
  void LockShared();
  void UnlockShared();

 private:
  std::shared_mutex mu_;   // free mode
  LockName name_;
  int writers_ = 0;        // controlled mode (one OS thread)
  int readers_ = 0;
};

// Bit waits (folio lock, writeback): block until `word` no longer equals
// `old`; Wake wakes every waiter on `word` after it changed. As on a kernel
// wait queue, a waiter runs again only when woken (controlled mode too), so a
// change made without a wake-up is a lost wake-up: the waiter sleeps on, a
// DEADLOCK. `what` names the wait (e.g. "f0 p3 locked") for deadlock reports
// and traces.
void WaitWord(std::atomic<uint32_t>& word, uint32_t old, const std::string& what);
void WakeWord(std::atomic<uint32_t>& word);

}  // namespace pagerace::sched
