// Fibers: functions that run on their own stacks and are entered and left
// only by explicit switches on one OS thread (asymmetric coroutines). The
// building block of the controlled scheduler: logical threads as fibers, so a
// schedule is chosen switch by switch and replays exactly.
//
// On x86-64 a switch is a few instructions of assembly (fiber.cc): it saves
// the callee-saved registers and swaps stack pointers. Measured here (g++ -O2,
// 2-core VM), the _setjmp/_longjmp pair it replaced took ~18 ns a switch,
// swapcontext ~220 ns (it saves the signal mask with a system call), and a
// baton between two OS threads 1.0-1.4 us; under AddressSanitizer each
// longjmp also cost a sigaltstack system call. Switches are announced to
// AddressSanitizer and to ThreadSanitizer (each fiber is its own thread to
// TSan, which is switched with swapcontext, as on other architectures).
// Thread-safety: a Fiber belongs to the OS thread that first resumes it.
#pragma once

#include <ucontext.h>

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
  bool started_ = false;       // the stack is set up (Trampoline runs the bodies)
  bool done_ = false;          // the body returned: parked until Rearm
  bool exiting_ = false;       // ~Fiber: leave Trampoline's loop
  Fiber* resumer_ = nullptr;  // the fiber (or null: the thread) that resumed us
  // One pair or the other is used, by the build (fiber.cc).
  [[maybe_unused]] void* self_sp_ = nullptr;    // x86-64: where this fiber continues
  [[maybe_unused]] void* caller_sp_ = nullptr;  // ... and where Resume() continues
  [[maybe_unused]] ucontext_t self_uc_;         // elsewhere and under TSan: the same as contexts
  [[maybe_unused]] ucontext_t caller_uc_;
  void* tsan_fiber_ = nullptr;
  void* tsan_caller_ = nullptr;
  void* caller_fake_stack_ = nullptr;  // ASan's fake stack of the resumer
  void* self_fake_stack_ = nullptr;    // ... and of this fiber while it is out
  const void* asan_caller_bottom_ = nullptr;
  size_t asan_caller_size_ = 0;
};

}  // namespace pagerace::sched
