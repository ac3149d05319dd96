#include "config/secret_file.h"

#include <sys/stat.h>

#include <array>
#include <cstdio>

namespace orbitnest::config {

std::string secret_file_problem(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return "no such file";
  }
  if (!S_ISREG(st.st_mode)) {
    return "not a regular file";
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    std::array<char, 8> mode{};
    std::snprintf(mode.data(), mode.size(), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return std::string("holds a secret but group or others can access it (mode ") + mode.data() +
           "); make it 0600";
  }
  return "";
}

}  // namespace orbitnest::config
