// Fibers: functions that run on their own stacks and are entered and left
// only by explicit switches on one OS thread (asymmetric coroutines). The
// building block of the controlled scheduler: logical threads as fibers, so a
// schedule is chosen switch by switch and replays exactly.
//
// Measured here (g++ -O2, 2-core VM): a Resume/Yield round trip ~37 ns, i.e.
// ~18 ns a switch, with _setjmp/_longjmp; swapcontext alone is ~220 ns a
// switch (it saves the signal mask with a system call), and a baton between
// two OS threads 1.0-1.4 us. Switches are announced to AddressSanitizer and
// to ThreadSanitizer (each fiber is its own thread to TSan, which is switched
// with swapcontext because it cannot follow a longjmp across fibers).
// Thread-safety: a Fiber belongs to the OS thread that first resumes it.
#pragma once

#include <ucontext.h>

#include <csetjmp>
#include <cstddef>
#include <functional>
#include <memory>

namespace pagerace::sched {

class Fiber {
 public:
  static constexpr size_t kDefaultStackBytes = 256 * 1024;

  explicit Fiber(std::function<void()> body, size_t stack_bytes = kDefaultStackBytes);
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Makes a finished fiber ready to run `body` from the start, on the same
  // stack. REQUIRES: done().
  void Rearm(std::function<void()> body);

  // Runs the fiber until it calls Yield() or its body returns.
  // REQUIRES: !done(), and not called from inside this fiber.
  void Resume();

  // From inside a running fiber: back to the Resume() that entered it.
  // REQUIRES: called on a fiber's stack.
  static void Yield();

  // The fiber running on this OS thread, or null in the thread's own context.
  static Fiber* Current();

  bool done() const { return done_; }

 private:
  static void Trampoline();
  void SwitchOut(bool finishing);

  std::function<void()> body_;
  std::unique_ptr<char[]> stack_;
  size_t stack_bytes_;
  bool started_ = false;       // the entry context is made
  bool entered_ = false;       // the stack has been entered once
  bool done_ = false;
  Fiber* resumer_ = nullptr;  // the fiber (or null: the thread) that resumed us
  [[maybe_unused]] std::jmp_buf self_;    // where this fiber continues (unused under TSan)
  [[maybe_unused]] std::jmp_buf caller_;  // where Resume() continues
  ucontext_t self_uc_;         // the first entry (and every switch under TSan)
  ucontext_t caller_uc_;
  void* tsan_fiber_ = nullptr;
  void* tsan_caller_ = nullptr;
  void* caller_fake_stack_ = nullptr;  // ASan's fake stack of the resumer
  void* self_fake_stack_ = nullptr;    // ... and of this fiber while it is out
  const void* asan_caller_bottom_ = nullptr;
  size_t asan_caller_size_ = 0;
};

}  // namespace pagerace::sched
