#pragma once
// Strict reader over one YAML mapping: every getter names its key, checks
// type and bounds, and finish() rejects the keys nobody asked for. Errors
// carry file, line and the dotted key path.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace orbitnest::config {

class YamlMapReader final {
 public:
  // Parses a whole file; the top level must be a mapping.
  static YamlMapReader load_file(const std::string& path);
  // Parses text (for tests and fuzzing); `file` is only used in messages.
  static YamlMapReader load_text(const std::string& text, const std::string& file);

  bool has(const std::string& key) const;
  // The mapping's keys, in file order (for maps whose keys are names).
  std::vector<std::string> keys() const;
  std::string required_string(const std::string& key);
  std::string string_or(const std::string& key, const std::string& fallback);
  std::int64_t integer_or(const std::string& key, std::int64_t fallback, std::int64_t min, std::int64_t max);
  bool boolean_or(const std::string& key, bool fallback);
  // One of `allowed`.
  std::string choice_or(const std::string& key, const std::string& fallback, const std::vector<std::string>& allowed);
  // A path that must exist and be a readable regular file.
  std::string required_existing_file(const std::string& key);
  std::optional<std::string> optional_existing_file(const std::string& key);
  // A nested mapping; absent → an empty one (so its defaults apply).
  YamlMapReader map(const std::string& key);
  std::vector<std::string> string_list_or(const std::string& key, const std::vector<std::string>& fallback);

  // Throws for the first key present in the file that no getter consumed.
  void finish() const;

  // Throws a ConfigError about `key` (at its line, or the map's line).
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;

  const std::string& file() const { return m_file; }

 private:
  YamlMapReader(std::string file, std::string prefix, YAML::Node node, int line);
  YAML::Node take(const std::string& key);
  std::string path_of(const std::string& key) const;
  int line_of(const std::string& key) const;
  std::string scalar(const std::string& key, const YAML::Node& node, const char* expected) const;

  std::string m_file;
  std::string m_prefix;
  YAML::Node m_node;
  int m_line;  // where this mapping's key stands (0 for the top level)
  std::set<std::string> m_consumed;
};

}  // namespace orbitnest::config
