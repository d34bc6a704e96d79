#include "harness/run/artifact.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>

namespace pagerace {

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  std::string data;
  char buf[65536];
  // One byte past the limit tells a file that is too large from one that is
  // not, without reading on (a device may never end).
  const size_t want = max_bytes == SIZE_MAX ? SIZE_MAX : max_bytes + 1;
  while (data.size() < want) {
    ssize_t n = read(fd, buf, std::min(sizeof buf, want - data.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      return Status::FromErrno("read " + path, e);
    }
    if (n == 0) break;
    data.append(buf, n);
  }
  struct stat st;
  const bool sized = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  close(fd);
  if (data.size() > max_bytes) {
    const std::string size = sized ? std::to_string(st.st_size) : "more than " + std::to_string(max_bytes);
    return Status::InvalidArgument(path + ": too large: " + size + " bytes; the limit is " +
                                   std::to_string(max_bytes) + " bytes");
  }
  return data;
}

namespace {

// Writes `data` to the new file `tmp` and fsyncs it; removes it again on
// failure. Returns the errno of the first failure, or 0.
int WriteNew(const std::string& tmp, const std::string& data) {
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  size_t done = 0;
  int err = 0;
  while (done < data.size() && err == 0) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno != EINTR) err = errno;
    if (n > 0) done += n;
  }
  if (err == 0 && fsync(fd) != 0) err = errno;
  if (close(fd) != 0 && err == 0) err = errno;
  if (err != 0) unlink(tmp.c_str());
  return err;
}

// A temp file beside `path`.
std::string TempName(const std::string& path) { return path + ".tmp." + std::to_string(getpid()); }

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
  const std::string tmp = TempName(path);
  if (int e = WriteNew(tmp, data); e != 0) return Status::FromErrno("write " + tmp, e);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    unlink(tmp.c_str());
    return Status::FromErrno("rename " + tmp, e);
  }
  SyncDirOf(path);
  return Status::Ok();
}

Result<std::string> WriteArtifact(const std::string& dir, const std::string& stem,
                                  const std::vector<std::string>& comments, const Program& program) {
  auto failed = [&dir](const std::string& why) {
    return Status::IoError("the artifact could not be written to " + dir + ": " + why);
  };
  std::string text;
  for (const std::string& c : comments) text += "# " + c + "\n";
  text += PrintText(program);
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return failed(std::strerror(errno));
  const std::string tmp = TempName(dir + "/" + stem);
  if (int e = WriteNew(tmp, text); e != 0) return failed(std::strerror(e));
  for (int i = 0; i < 1000; ++i) {
    std::string path = dir + "/" + stem + (i == 0 ? "" : "-" + std::to_string(i)) + ".txt";
    if (link(tmp.c_str(), path.c_str()) == 0) {
      unlink(tmp.c_str());
      SyncDirOf(path);
      return path;
    }
    if (errno != EEXIST) {
      int e = errno;
      unlink(tmp.c_str());
      return failed(std::strerror(e));
    }
  }
  unlink(tmp.c_str());
  return failed("no free name for " + stem + ".txt (1000 taken)");
}

Result<Program> LoadProgram(const std::string& path, FileKind kind) {
  Result<std::string> data = ReadFile(path, kProgramFileMax);
  if (!data.ok()) return data.status();
  const auto* p = reinterpret_cast<const uint8_t*>(data->data());
  const std::span<const uint8_t> bytes(p, data->size());
  if (bytes.empty()) return Status::InvalidArgument(path + ": empty file: not a pagerace program");
  if (kind == FileKind::kFuzzerInput || HasFileMagic(bytes)) return DecodeFuzzInput(bytes);
  if (!LooksLikeText(*data)) {
    return Status::InvalidArgument(path +
                                   ": not a pagerace program: expected a text program (first line \"pagerace 1\") "
                                   "or a binary one (magic \\x7fPGR); for a fuzzer's crash file, add --raw");
  }
  Result<Program> program = ParseText(*data);
  if (!program.ok()) return Status::InvalidArgument(path + ":" + program.status().message());
  return program;
}

}  // namespace pagerace
