#include "daemon/app/campus_secret.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cordon::app {

absl::StatusOr<std::string> LoadOrCreateCampusSecret(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    std::string key = ss.str();
    if (key.size() < 32) {
      return absl::DataLossError("campus secret " + path + " is shorter than 32 bytes");
    }
    return key;
  }
  std::string key(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    return absl::InternalError("cannot generate random bytes for the campus secret");
  }
  // O_EXCL: never overwrite a secret that appeared meanwhile.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError("cannot create campus secret " + path + ": " +
                                       std::strerror(errno));
  }
  bool ok = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return absl::InternalError("cannot write campus secret " + path);
  return key;
}

}  // namespace cordon::app
