#pragma once
// keyd's audit log as a test reads it: one JSON object per line, and the
// records of one event (and operation) among them.
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "tests/support/daemon_fixture.h"

namespace orbitnest::test {

inline std::vector<boost::json::object> audit_records(const Appliance& a) {
  const std::string text = read_file(a.dir.file("audit.log"));
  std::vector<boost::json::object> out;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t nl = text.find('\n', pos);
    out.push_back(boost::json::parse(text.substr(pos, nl - pos)).as_object());
    pos = nl == std::string::npos ? text.size() : nl + 1;
  }
  return out;
}

// Records with this event and, unless empty, this op.
inline std::vector<boost::json::object> audit_records(const Appliance& a, const std::string& event,
                                                      const std::string& op = "") {
  std::vector<boost::json::object> out;
  for (boost::json::object& r : audit_records(a)) {
    const boost::json::value* o = r.if_contains("op");
    if (r.at("event").as_string() == event && (op.empty() || (o != nullptr && o->as_string() == op))) {
      out.push_back(std::move(r));
    }
  }
  return out;
}

inline std::string text_of(const boost::json::object& r, const char* member) {
  const boost::json::value* v = r.if_contains(member);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace orbitnest::test
