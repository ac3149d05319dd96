#pragma once
// Checks for files that hold secrets (PIN, keys, passwords): they must be
// regular files that neither group nor others can read.
#include <string>

namespace orbitnest::config {

// Empty when the file is fine, else the problem in words.
std::string secret_file_problem(const std::string& path);

}  // namespace orbitnest::config
