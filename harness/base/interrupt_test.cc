// Tests the stop handlers: a first SIGINT or SIGTERM is recorded, not
// fatal, and puts both signals back to their default action, so that a
// second one ends the process; a signal ignored before stays ignored.
#include "harness/base/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>

namespace pagerace {
namespace {

sighandler_t Disposition(int signal) {
  struct sigaction now {};
  EXPECT_EQ(sigaction(signal, nullptr, &now), 0);
  return now.sa_handler;
}
bool IsDefault(int signal) { return Disposition(signal) == SIG_DFL; }

// As a process starts from an interactive shell.
void DefaultDispositions() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

void ExpectFirstSignalIsRecorded(int signal) {
  ClearStopForTesting();
  DefaultDispositions();
  InstallStopHandlers();
  EXPECT_FALSE(IsDefault(SIGINT));
  EXPECT_FALSE(IsDefault(SIGTERM));
  EXPECT_FALSE(StopRequested());
  EXPECT_EQ(StopSignal(), 0);
  ASSERT_EQ(raise(signal), 0);  // handled on this thread before raise returns
  EXPECT_TRUE(StopRequested());
  EXPECT_EQ(StopSignal(), signal);
  EXPECT_TRUE(IsDefault(SIGINT));
  EXPECT_TRUE(IsDefault(SIGTERM));
  ClearStopForTesting();
}

TEST(InterruptTest, FirstSigintIsRecordedAndRearmsTheDefault) { ExpectFirstSignalIsRecorded(SIGINT); }

TEST(InterruptTest, FirstSigtermIsRecordedAndRearmsTheDefault) { ExpectFirstSignalIsRecorded(SIGTERM); }

TEST(InterruptTest, SecondSignalEndsTheProcess) {
  EXPECT_EXIT(
      {
        DefaultDispositions();
        InstallStopHandlers();
        raise(SIGINT);
        raise(SIGTERM);
        _exit(0);  // not reached
      },
      testing::KilledBySignal(SIGTERM), "");
}

TEST(InterruptTest, AnIgnoredSignalStaysIgnored) {
  ClearStopForTesting();
  DefaultDispositions();
  std::signal(SIGINT, SIG_IGN);
  InstallStopHandlers();
  EXPECT_EQ(Disposition(SIGINT), SIG_IGN);
  EXPECT_FALSE(IsDefault(SIGTERM));
  ASSERT_EQ(raise(SIGINT), 0);
  EXPECT_FALSE(StopRequested());
  ASSERT_EQ(raise(SIGTERM), 0);
  EXPECT_EQ(StopSignal(), SIGTERM);
  EXPECT_EQ(Disposition(SIGINT), SIG_IGN);
  EXPECT_TRUE(IsDefault(SIGTERM));
  ClearStopForTesting();
  DefaultDispositions();
}

TEST(InterruptTest, SignalNames) {
  EXPECT_STREQ(StopSignalName(SIGINT), "SIGINT");
  EXPECT_STREQ(StopSignalName(SIGTERM), "SIGTERM");
}

}  // namespace
}  // namespace pagerace
