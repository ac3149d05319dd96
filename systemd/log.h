#pragma once
// Structured one-line logs on stderr (logfmt: key=value), which journald
// takes as they are. Values are escaped so that nothing a client sends can
// forge a second line. Secrets must never be passed here: secret-holding
// types in this code base deliberately have no string conversion.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace orbitnest::log {

enum class Level : int { debug = 0, info = 1, notice = 2, warning = 3, error = 4 };

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, long long v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, unsigned long long v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, int v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, long v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, unsigned long v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  std::string_view key;
  std::string value;
};

// The daemon's name, printed in every line (daemon=...).
void set_program(std::string_view name);
void set_level(Level level);
Level level();
std::optional<Level> parse_level(std::string_view text);

// Formats one line: "[<N>]level=info daemon=keyd event=... k=v ...\n".
std::string format(Level level, std::string_view event, std::initializer_list<Field> fields);
void write(Level level, std::string_view event, std::initializer_list<Field> fields = {});

inline void debug(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::debug, e, f); }
inline void info(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::info, e, f); }
inline void notice(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::notice, e, f); }
inline void warning(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::warning, e, f); }
inline void error(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::error, e, f); }

}  // namespace orbitnest::log
