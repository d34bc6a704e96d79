#include "harness/run/artifact.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "harness/program/codec.h"
#include "harness/program/text.h"

namespace pagerace {

Result<std::string> ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      return Status::FromErrno("read " + path, e);
    }
    if (n == 0) break;
    data.append(buf, n);
  }
  close(fd);
  return data;
}

Status WriteFileAtomic(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("open " + tmp, errno);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      unlink(tmp.c_str());
      return Status::FromErrno("write " + tmp, e);
    }
    done += n;
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    int e = errno;
    unlink(tmp.c_str());
    return Status::FromErrno("fsync " + tmp, e);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    unlink(tmp.c_str());
    return Status::FromErrno("rename " + tmp, e);
  }
  const std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return Status::Ok();
}

Result<std::string> WriteArtifact(const std::string& dir, const std::string& stem,
                                  const std::vector<std::string>& comments, const Program& program) {
  std::string text;
  for (const std::string& c : comments) text += "# " + c + "\n";
  text += PrintText(program);
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Status::FromErrno("mkdir " + dir, errno);
  for (int i = 0; i < 1000; ++i) {
    std::string path = dir + "/" + stem + (i == 0 ? "" : "-" + std::to_string(i)) + ".txt";
    struct stat st;
    if (lstat(path.c_str(), &st) == 0) continue;
    PR_RETURN_IF_ERROR(WriteFileAtomic(path, text));
    return path;
  }
  return Status::IoError("no free artifact name for " + dir + "/" + stem);
}

Result<Program> LoadProgram(const std::string& path) {
  Result<std::string> data = ReadFile(path);
  if (!data.ok()) return data.status();
  if (!LooksLikeText(*data)) {
    const auto* p = reinterpret_cast<const uint8_t*>(data->data());
    return Decode({p, data->size()});
  }
  Result<Program> program = ParseText(*data);
  if (!program.ok()) return Status::InvalidArgument(path + ":" + program.status().message());
  return program;
}

}  // namespace pagerace
