#include "systemd/log.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace orbitnest::log {
namespace {

std::atomic<Level> g_level{Level::info};
std::mutex g_mutex;
std::string g_program = "orbitnest";

constexpr std::array<std::string_view, 5> kNames = {"debug", "info", "notice", "warning", "error"};
// syslog priorities, understood by journald as a "<N>" line prefix.
constexpr std::array<int, 5> kSyslogPriority = {7, 6, 5, 4, 3};

bool needs_quotes(std::string_view v) {
  if (v.empty()) {
    return true;
  }
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || c == '"' || c == '=' || c == '\\' || u == 0x7f) {
      return true;
    }
  }
  return false;
}

void append_value(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (c == '\t') {
      out.append("\\t");
    } else if (u < 0x20 || u == 0x7f) {
      std::array<char, 8> buf{};
      std::snprintf(buf.data(), buf.size(), "\\x%02x", u);
      out.append(buf.data());
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

bool stderr_is_journal() {
  // systemd sets JOURNAL_STREAM when stderr is connected to journald; then a
  // "<N>" prefix carries the priority and journald adds its own timestamp.
  static const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  return journal;
}

}  // namespace

void set_program(std::string_view name) {
  const std::lock_guard lock(g_mutex);
  g_program = std::string(name);
}

void set_level(Level l) { g_level.store(l); }
Level level() { return g_level.load(); }

std::optional<Level> parse_level(std::string_view text) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == text) {
      return static_cast<Level>(i);
    }
  }
  return std::nullopt;
}

std::string format(Level l, std::string_view event, std::initializer_list<Field> fields) {
  const auto idx = static_cast<std::size_t>(l);
  std::string line;
  line.reserve(160);
  if (stderr_is_journal()) {
    line.push_back('<');
    line.append(std::to_string(kSyslogPriority[idx]));
    line.push_back('>');
  } else {
    const auto now = std::chrono::system_clock::now();
    const std::time_t secs = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    std::array<char, 96> ts{};
    std::snprintf(ts.data(), ts.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    line.append("ts=");
    line.append(ts.data());
    line.push_back(' ');
  }
  line.append("level=");
  line.append(kNames[idx]);
  {
    const std::lock_guard lock(g_mutex);
    line.append(" daemon=");
    line.append(g_program);
  }
  line.append(" event=");
  append_value(line, event);
  for (const Field& f : fields) {
    line.push_back(' ');
    line.append(f.key);
    line.push_back('=');
    append_value(line, f.value);
  }
  line.push_back('\n');
  return line;
}

void write(Level l, std::string_view event, std::initializer_list<Field> fields) {
  if (static_cast<int>(l) < static_cast<int>(g_level.load())) {
    return;
  }
  const std::string line = format(l, event, fields);
  // One write(2) per line keeps lines whole when threads log at once.
  std::size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) {
      return;
    }
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace orbitnest::log
