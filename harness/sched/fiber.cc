#include "harness/sched/fiber.h"

#include <ucontext.h>

#include <cstdint>

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

#if defined(__x86_64__) && !defined(PAGERACE_TSAN)
#define PAGERACE_ASM_SWITCH 1
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

#ifdef PAGERACE_ASM_SWITCH
// pagerace_fiber_switch(&from_sp, to_sp): pushes the callee-saved registers
// and the SSE and x87 control words on the current stack, stores the stack
// pointer in *from_sp, loads to_sp and pops the same from there, returning
// into whatever switched out at to_sp (or, the first time, into the entry
// frame InitialFrame built). An ordinary call that returns: AddressSanitizer
// sees no longjmp (its interceptor unpoisons the stack with a sigaltstack
// system call at every switch) and no signal mask is saved (swapcontext's
// system call).
extern "C" void pagerace_fiber_switch(void** from_sp, void* to_sp);
asm(R"(
  .text
  .p2align 4
  .globl pagerace_fiber_switch
  .hidden pagerace_fiber_switch
  .type pagerace_fiber_switch, @function
pagerace_fiber_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size pagerace_fiber_switch, .-pagerace_fiber_switch
)");
#endif

namespace pagerace::sched {
namespace {

thread_local Fiber* current = nullptr;
thread_local Fiber* starting = nullptr;  // handed to Trampoline (it takes no arguments)

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

#ifdef PAGERACE_ASM_SWITCH
// The stack pointer of a fresh stack whose first switch "returns" into
// `entry`, as pagerace_fiber_switch pops it: the control words (the
// defaults), six zero registers, `entry`, and a null return address for it,
// so that it starts as if called (the stack 16-byte aligned before the call).
void* InitialFrame(char* stack, size_t bytes, void (*entry)()) {
  auto top = reinterpret_cast<uintptr_t>(stack + bytes) & ~uintptr_t{15};
  auto* w = reinterpret_cast<uint64_t*>(top);
  *--w = 0;                                    // entry's return address: it never returns
  *--w = reinterpret_cast<uintptr_t>(entry);   // popped by ret
  for (int i = 0; i < 6; ++i) *--w = 0;        // rbp rbx r12 r13 r14 r15
  *--w = uint64_t{0x037f} << 32 | 0x1f80;      // x87 control word, MXCSR: the defaults
  return w;
}
#endif

}  // namespace

Fiber::Fiber(std::function<void()> body, size_t stack_bytes)
    : body_(std::move(body)), stack_(new char[stack_bytes]), stack_bytes_(stack_bytes) {
#ifdef PAGERACE_TSAN
  tsan_fiber_ = __tsan_create_fiber(0);
#endif
}

Fiber::~Fiber() {
  PR_CHECK_MSG(current != this, "a fiber destroyed itself");
  if (started_ && done_) {
    // Parked in Trampoline's loop after its last body: let it leave for
    // good, so that ASan frees its fake stack. (One abandoned in the middle
    // of a body, as a deadlocked run's are, just loses its stack.)
    exiting_ = true;
    done_ = false;
    Resume();
  }
#ifdef PAGERACE_TSAN
  __tsan_destroy_fiber(tsan_fiber_);
#endif
}

Fiber* Fiber::Current() { return current; }

void Fiber::Rearm(std::function<void()> body) {
  PR_CHECK_MSG(done_, "Rearm of a fiber that has not finished");
  body_ = std::move(body);
  done_ = false;
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
    starting = this;
#ifdef PAGERACE_ASM_SWITCH
    self_sp_ = InitialFrame(stack_.get(), stack_bytes_, &Fiber::Trampoline);
#else
    getcontext(&self_uc_);
    self_uc_.uc_stack.ss_sp = stack_.get();
    self_uc_.uc_stack.ss_size = stack_bytes_;
    self_uc_.uc_link = nullptr;
    makecontext(&self_uc_, &Fiber::Trampoline, 0);
#endif
  }
  BeforeSwitch(&caller_fake_stack_, stack_.get(), stack_bytes_, tsan_fiber_);
#ifdef PAGERACE_ASM_SWITCH
  pagerace_fiber_switch(&caller_sp_, self_sp_);
#else
  // ThreadSanitizer cannot follow a longjmp across fibers; elsewhere than
  // x86-64 this is the portable switch.
  swapcontext(&caller_uc_, &self_uc_);
#endif
  // Back from the fiber (it yielded or finished).
  AfterSwitch(caller_fake_stack_, nullptr, nullptr);
  current = resumer_;
}

// The stack is entered once, here, and every body runs in this loop: a
// finished body parks the fiber until Rearm gives it the next one, so the
// stack is never set up again, and ASan's fake stack for it (made on first
// use: a few MiB mapped, with detect_stack_use_after_return) lives as long
// as the fiber rather than one body.
void Fiber::Trampoline() {
  Fiber* self = starting;
  AfterSwitch(nullptr, &self->asan_caller_bottom_, &self->asan_caller_size_);
  while (!self->exiting_) {
    self->body_();
    self->done_ = true;
    self->SwitchOut(/*finishing=*/false);  // parked until the next body, or ~Fiber
  }
  self->SwitchOut(/*finishing=*/true);
}

void Fiber::Yield() {
  Fiber* self = current;
  PR_CHECK_MSG(self != nullptr, "Fiber::Yield outside a fiber");
  self->SwitchOut(/*finishing=*/false);
}

void Fiber::SwitchOut(bool finishing) {
  if (finishing) {
    // Nothing returns here: ASan frees this stack's fake frames.
    BeforeSwitch(nullptr, asan_caller_bottom_, asan_caller_size_, tsan_caller_);
#ifdef PAGERACE_ASM_SWITCH
    pagerace_fiber_switch(&self_sp_, caller_sp_);
#else
    setcontext(&caller_uc_);
#endif
    PR_CHECK_MSG(false, "a fiber that left for good was resumed");
  }
  self_fake_stack_ = nullptr;
  BeforeSwitch(&self_fake_stack_, asan_caller_bottom_, asan_caller_size_, tsan_caller_);
#ifdef PAGERACE_ASM_SWITCH
  pagerace_fiber_switch(&self_sp_, caller_sp_);
#else
  swapcontext(&self_uc_, &caller_uc_);
#endif
  // Resumed again.
  AfterSwitch(self_fake_stack_, &asan_caller_bottom_, &asan_caller_size_);
}

}  // namespace pagerace::sched
