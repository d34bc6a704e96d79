#include "harness/sched/fiber.h"

#include <setjmp.h>
#include <ucontext.h>

#include "harness/base/check.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PAGERACE_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define PAGERACE_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define PAGERACE_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define PAGERACE_TSAN 1
#endif

#ifdef PAGERACE_ASAN
extern "C" void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, size_t size);
extern "C" void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old, size_t* size_old);
#endif
#ifdef PAGERACE_TSAN
extern "C" void* __tsan_get_current_fiber();
extern "C" void* __tsan_create_fiber(unsigned flags);
extern "C" void __tsan_destroy_fiber(void* fiber);
extern "C" void __tsan_switch_to_fiber(void* fiber, unsigned flags);
#endif

namespace pagerace::sched {
namespace {

thread_local Fiber* current = nullptr;
thread_local Fiber* starting = nullptr;  // handed to Trampoline (makecontext takes ints)

// Announces a switch to `bottom`/`size` (ASan) and `tsan_to` (TSan).
void BeforeSwitch([[maybe_unused]] void** fake_stack, [[maybe_unused]] const void* bottom,
                  [[maybe_unused]] size_t size, [[maybe_unused]] void* tsan_to) {
#ifdef PAGERACE_ASAN
  __sanitizer_start_switch_fiber(fake_stack, bottom, size);
#endif
#ifdef PAGERACE_TSAN
  __tsan_switch_to_fiber(tsan_to, 0);
#endif
}

void AfterSwitch([[maybe_unused]] void* fake_stack, [[maybe_unused]] const void** bottom_old,
                 [[maybe_unused]] size_t* size_old) {
#ifdef PAGERACE_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, bottom_old, size_old);
#endif
}

}  // namespace

Fiber::Fiber(std::function<void()> body, size_t stack_bytes)
    : body_(std::move(body)), stack_(new char[stack_bytes]), stack_bytes_(stack_bytes) {
#ifdef PAGERACE_TSAN
  tsan_fiber_ = __tsan_create_fiber(0);
#endif
}

Fiber::~Fiber() {
  PR_CHECK_MSG(current != this, "a fiber destroyed itself");
#ifdef PAGERACE_TSAN
  __tsan_destroy_fiber(tsan_fiber_);
#endif
}

Fiber* Fiber::Current() { return current; }

void Fiber::Rearm(std::function<void()> body) {
  PR_CHECK_MSG(done_, "Rearm of a fiber that has not finished");
  body_ = std::move(body);
  started_ = entered_ = done_ = false;
}

void Fiber::Resume() {
  PR_CHECK_MSG(!done_, "Resume of a finished fiber");
  PR_CHECK_MSG(current != this, "a fiber resumed itself");
  resumer_ = current;
#ifdef PAGERACE_TSAN
  tsan_caller_ = __tsan_get_current_fiber();
#endif
  current = this;
  if (!started_) {
    started_ = true;
    getcontext(&self_uc_);
    self_uc_.uc_stack.ss_sp = stack_.get();
    self_uc_.uc_stack.ss_size = stack_bytes_;
    self_uc_.uc_link = nullptr;
    makecontext(&self_uc_, &Fiber::Trampoline, 0);
    starting = this;
  }
  BeforeSwitch(&caller_fake_stack_, stack_.get(), stack_bytes_, tsan_fiber_);
#ifdef PAGERACE_TSAN
  // ThreadSanitizer tracks setjmp buffers per fiber and cannot follow a
  // longjmp across fibers: switch with swapcontext, slower but understood.
  swapcontext(&caller_uc_, &self_uc_);
#else
  // Locals set after _setjmp are indeterminate after the longjmp back:
  // everything the switch needs lives in members.
  if (_setjmp(caller_) == 0) {
    if (entered_) _longjmp(self_, 1);
    entered_ = true;
    // First entry: the new stack is entered once with swapcontext; every
    // later switch is a _setjmp/_longjmp pair (no signal-mask system call).
    swapcontext(&caller_uc_, &self_uc_);
  }
#endif
  // Back from the fiber (it yielded or finished).
  AfterSwitch(caller_fake_stack_, nullptr, nullptr);
  current = resumer_;
}

void Fiber::Trampoline() {
  Fiber* self = starting;
  AfterSwitch(nullptr, &self->asan_caller_bottom_, &self->asan_caller_size_);
  self->body_();
  self->SwitchOut(/*finishing=*/true);
}

void Fiber::Yield() {
  Fiber* self = current;
  PR_CHECK_MSG(self != nullptr, "Fiber::Yield outside a fiber");
  self->SwitchOut(/*finishing=*/false);
}

void Fiber::SwitchOut(bool finishing) {
  if (finishing) {
    done_ = true;
    // Nothing returns here: ASan may free this stack's fake frames.
    BeforeSwitch(nullptr, asan_caller_bottom_, asan_caller_size_, tsan_caller_);
#ifdef PAGERACE_TSAN
    setcontext(&caller_uc_);
#else
    _longjmp(caller_, 1);
#endif
  }
  self_fake_stack_ = nullptr;
  BeforeSwitch(&self_fake_stack_, asan_caller_bottom_, asan_caller_size_, tsan_caller_);
#ifdef PAGERACE_TSAN
  swapcontext(&self_uc_, &caller_uc_);
#else
  if (_setjmp(self_) == 0) _longjmp(caller_, 1);
#endif
  // Resumed again.
  AfterSwitch(self_fake_stack_, &asan_caller_bottom_, &asan_caller_size_);
}

}  // namespace pagerace::sched
