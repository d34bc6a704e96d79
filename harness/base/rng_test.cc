// Tests the seeded generator (the same seed gives the same stream, Below()
// stays in range) and Result's value-or-error contract.
#include "harness/base/rng.h"

#include <gtest/gtest.h>

#include "harness/base/status.h"

namespace pagerace {
namespace {

TEST(RngTest, SameSeedSameStream) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs |= x != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(RngTest, BelowInRange) {
  Rng r(7);
  int seen[5] = {};
  for (int i = 0; i < 1000; ++i) {
    uint64_t v = r.Below(5);
    ASSERT_LT(v, 5u);
    ++seen[v];
  }
  for (int s : seen) EXPECT_GT(s, 100);
}

TEST(StatusTest, ResultCarriesValueOrError) {
  Result<int> good(5);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 5);
  Result<int> bad(Status::InvalidArgument("nope"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().ToString(), "invalid argument: nope");
}

}  // namespace
}  // namespace pagerace
