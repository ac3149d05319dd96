#include "config/yaml_map_reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "config/config_error.h"

namespace orbitnest::config {
namespace {

int line_of_node(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

}  // namespace

YamlMapReader::YamlMapReader(std::string file, std::string prefix, YAML::Node node, int line)
    : m_file(std::move(file)), m_prefix(std::move(prefix)), m_node(std::move(node)), m_line(line) {
  if (!m_node.IsDefined() || m_node.IsNull()) {
    m_node = YAML::Node(YAML::NodeType::Map);
    return;
  }
  if (!m_node.IsMap()) {
    throw ConfigError(m_file, line_of_node(m_node), m_prefix, "expected a mapping");
  }
  std::set<std::string> seen;
  for (const auto& entry : m_node) {
    if (!entry.first.IsScalar()) {
      throw ConfigError(m_file, line_of_node(entry.first), m_prefix, "keys must be plain strings");
    }
    const std::string key = entry.first.Scalar();
    if (!seen.insert(key).second) {
      throw ConfigError(m_file, line_of_node(entry.first), path_of(key), "duplicate key");
    }
  }
}

YamlMapReader YamlMapReader::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError(path, 0, "", "cannot open config file");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_text(text.str(), path);
}

YamlMapReader YamlMapReader::load_text(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(file, e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    throw ConfigError(file, 0, "", std::string("YAML error: ") + e.what());
  }
  if (root.IsDefined() && !root.IsNull() && !root.IsMap()) {
    throw ConfigError(file, line_of_node(root), "", "the top level must be a mapping of sections");
  }
  return YamlMapReader(file, "", root, 0);
}

std::string YamlMapReader::path_of(const std::string& key) const {
  return m_prefix.empty() ? key : m_prefix + "." + key;
}

int YamlMapReader::line_of(const std::string& key) const {
  for (const auto& entry : m_node) {
    if (entry.first.Scalar() == key) {
      return line_of_node(entry.first);
    }
  }
  return m_line;
}

void YamlMapReader::fail(const std::string& key, const std::string& problem) const {
  throw ConfigError(m_file, line_of(key), path_of(key), problem);
}

bool YamlMapReader::has(const std::string& key) const {
  for (const auto& entry : m_node) {
    if (entry.first.Scalar() == key) {
      return true;
    }
  }
  return false;
}

YAML::Node YamlMapReader::take(const std::string& key) {
  m_consumed.insert(key);
  for (const auto& entry : m_node) {
    if (entry.first.Scalar() == key) {
      return entry.second;
    }
  }
  return YAML::Node();  // undefined
}

std::string YamlMapReader::scalar(const std::string& key, const YAML::Node& node, const char* expected) const {
  if (!node.IsScalar()) {
    fail(key, std::string("expected ") + expected);
  }
  return node.Scalar();
}

std::string YamlMapReader::required_string(const std::string& key) {
  const YAML::Node node = take(key);
  if (!node.IsDefined() || node.IsNull()) {
    fail(key, "required value is missing");
  }
  std::string value = scalar(key, node, "a string");
  if (value.empty()) {
    fail(key, "must not be empty");
  }
  return value;
}

std::string YamlMapReader::string_or(const std::string& key, const std::string& fallback) {
  const YAML::Node node = take(key);
  if (!node.IsDefined() || node.IsNull()) {
    return fallback;
  }
  return scalar(key, node, "a string");
}

std::int64_t YamlMapReader::integer_or(const std::string& key, std::int64_t fallback, std::int64_t min,
                                       std::int64_t max) {
  const YAML::Node node = take(key);
  if (!node.IsDefined() || node.IsNull()) {
    return fallback;
  }
  const std::string text = scalar(key, node, "an integer");
  std::int64_t value = 0;
  std::size_t used = 0;
  try {
    value = std::stoll(text, &used, 10);
  } catch (const std::exception&) {
    fail(key, "expected an integer, got '" + text + "'");
  }
  if (used != text.size()) {
    fail(key, "expected an integer, got '" + text + "'");
  }
  if (value < min || value > max) {
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + text);
  }
  return value;
}

bool YamlMapReader::boolean_or(const std::string& key, bool fallback) {
  const YAML::Node node = take(key);
  if (!node.IsDefined() || node.IsNull()) {
    return fallback;
  }
  const std::string text = scalar(key, node, "true or false");
  if (text == "true") {
    return true;
  }
  if (text == "false") {
    return false;
  }
  fail(key, "expected true or false, got '" + text + "'");
}

std::string YamlMapReader::choice_or(const std::string& key, const std::string& fallback,
                                     const std::vector<std::string>& allowed) {
  const std::string value = string_or(key, fallback);
  for (const std::string& a : allowed) {
    if (a == value) {
      return value;
    }
  }
  std::string list;
  for (const std::string& a : allowed) {
    list += (list.empty() ? "" : ", ") + a;
  }
  fail(key, "must be one of " + list + ", got '" + value + "'");
}

std::string YamlMapReader::required_existing_file(const std::string& key) {
  const std::string path = required_string(key);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    fail(key, "no such file");
  }
  if (!S_ISREG(st.st_mode)) {
    fail(key, "not a regular file");
  }
  if (::access(path.c_str(), R_OK) != 0) {
    fail(key, "not readable by this user");
  }
  return path;
}

std::optional<std::string> YamlMapReader::optional_existing_file(const std::string& key) {
  if (!has(key)) {
    m_consumed.insert(key);
    return std::nullopt;
  }
  return required_existing_file(key);
}

std::vector<std::string> YamlMapReader::keys() const {
  std::vector<std::string> out;
  if (m_node.IsMap()) {
    for (const auto& entry : m_node) {
      out.push_back(entry.first.as<std::string>());
    }
  }
  return out;
}

YamlMapReader YamlMapReader::map(const std::string& key) {
  const YAML::Node node = take(key);
  if (node.IsDefined() && !node.IsNull() && !node.IsMap()) {
    fail(key, "expected a mapping");
  }
  return YamlMapReader(m_file, path_of(key), node, has(key) ? line_of(key) : m_line);
}

std::vector<std::string> YamlMapReader::string_list_or(const std::string& key,
                                                       const std::vector<std::string>& fallback) {
  const YAML::Node node = take(key);
  if (!node.IsDefined() || node.IsNull()) {
    return fallback;
  }
  if (!node.IsSequence()) {
    fail(key, "expected a list of strings");
  }
  std::vector<std::string> out;
  for (const auto& item : node) {
    out.push_back(scalar(key, item, "a list of strings"));
  }
  return out;
}

void YamlMapReader::finish() const {
  for (const auto& entry : m_node) {
    const std::string key = entry.first.Scalar();
    if (m_consumed.count(key) == 0) {
      throw ConfigError(m_file, line_of_node(entry.first), path_of(key), "unknown key");
    }
  }
}

}  // namespace orbitnest::config
