// For the target tests: a private parent directory for one test, made with
// mkdtemp under $TMPDIR (or /tmp) and required to be empty at the end (the
// targets leave nothing behind).
#pragma once

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace pagerace {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" + prefix + ".XXXXXX";
    EXPECT_NE(mkdtemp(templ.data()), nullptr);
    path_ = templ;
  }
  ~TempDir() { EXPECT_EQ(rmdir(path_.c_str()), 0) << path_ << " is not empty"; }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  size_t Entries() const {
    size_t n = 0;
    if (DIR* d = opendir(path_.c_str())) {
      while (dirent* e = readdir(d)) n += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
      closedir(d);
    }
    return n;
  }

 private:
  std::string path_;
};

}  // namespace pagerace
