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

namespace {

// Writes `data` to a new temp file beside `path` and fsyncs it.
Result<std::string> WriteTemp(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("open " + tmp, errno);
  size_t done = 0;
  int err = 0;
  while (done < data.size() && err == 0) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno != EINTR) err = errno;
    if (n > 0) done += n;
  }
  if (err == 0 && fsync(fd) != 0) err = errno;
  if (close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    unlink(tmp.c_str());
    return Status::FromErrno("write " + tmp, err);
  }
  return tmp;
}

void SyncDirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
}

}  // namespace

Status WriteFileAtomic(const std::string& path, const std::string& data) {
  Result<std::string> tmp = WriteTemp(path, data);
  if (!tmp.ok()) return tmp.status();
  if (rename(tmp->c_str(), path.c_str()) != 0) {
    int e = errno;
    unlink(tmp->c_str());
    return Status::FromErrno("rename " + *tmp, e);
  }
  SyncDirOf(path);
  return Status::Ok();
}

Result<std::string> WriteArtifact(const std::string& dir, const std::string& stem,
                                  const std::vector<std::string>& comments, const Program& program) {
  std::string text;
  for (const std::string& c : comments) text += "# " + c + "\n";
  text += PrintText(program);
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Status::FromErrno("mkdir " + dir, errno);
  Result<std::string> tmp = WriteTemp(dir + "/" + stem, text);
  if (!tmp.ok()) return tmp.status();
  for (int i = 0; i < 1000; ++i) {
    std::string path = dir + "/" + stem + (i == 0 ? "" : "-" + std::to_string(i)) + ".txt";
    if (link(tmp->c_str(), path.c_str()) == 0) {
      unlink(tmp->c_str());
      SyncDirOf(path);
      return path;
    }
    if (errno != EEXIST) {
      int e = errno;
      unlink(tmp->c_str());
      return Status::FromErrno("link " + path, e);
    }
  }
  unlink(tmp->c_str());
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
