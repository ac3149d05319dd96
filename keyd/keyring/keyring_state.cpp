#include "keyd/keyring/keyring_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "systemd/unique_fd.h"

namespace orbitnest::keyd {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 4> kStateNames = {"next", "current", "previous", "retired"};

KeyState parse_key_state(std::string_view s) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == s) {
      return static_cast<KeyState>(i);
    }
  }
  throw StateFileError("unknown key state '" + std::string(s) + "'");
}

json::object symmetric_to_json(const SymmetricKeyVersions& v) {
  json::array versions;
  for (const int n : v.versions) {
    versions.push_back(n);
  }
  return json::object{{"current", v.current}, {"versions", versions}};
}

SymmetricKeyVersions symmetric_from_json(const json::value& v) {
  SymmetricKeyVersions out;
  out.current = static_cast<int>(v.at("current").as_int64());
  for (const json::value& n : v.at("versions").as_array()) {
    out.versions.push_back(static_cast<int>(n.as_int64()));
  }
  return out;
}

void write_all(int fd, const std::string& data, const std::string& path) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw StateFileError("cannot write " + path + ": " + std::strerror(errno));
    }
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string_view key_state_name(KeyState s) { return kStateNames[static_cast<std::size_t>(s)]; }

const KeyVersion* Keyring::find(KeyState s) const {
  for (const KeyVersion& v : versions) {
    if (v.state == s) {
      return &v;
    }
  }
  return nullptr;
}

KeyVersion* Keyring::find(KeyState s) {
  return const_cast<KeyVersion*>(static_cast<const Keyring*>(this)->find(s));
}

int Keyring::highest_version() const {
  int h = 0;
  for (const KeyVersion& v : versions) {
    h = std::max(h, v.version);
  }
  return h;
}

std::string serialize_state(const KeydStateFile& state) {
  json::object rings;
  for (const auto& [name, ring] : state.keyrings) {
    json::array versions;
    for (const KeyVersion& v : ring.versions) {
      json::object o{{"version", v.version},
                     {"kid", v.kid},
                     {"state", key_state_name(v.state)},
                     {"created", v.created},
                     {"promoted", v.promoted},
                     {"demoted", v.demoted},
                     {"retired", v.retired}};
      if (!v.label.empty()) {
        o["label"] = v.label;
      }
      versions.push_back(std::move(o));
    }
    rings[name] = json::object{{"algorithm", p11::algorithm_info(ring.algorithm).jose_name},
                               {"issuer", ring.issuer},
                               {"versions", versions}};
  }
  const json::object root{{"format", 1},
                          {"generation", state.generation},
                          {"keyrings", rings},
                          {"sealing", symmetric_to_json(state.sealing)},
                          {"pepper", symmetric_to_json(state.pepper)},
                          {"audit_key_version", state.audit_key_version}};
  return json::serialize(root) + "\n";
}

KeydStateFile parse_state(const std::string& text) {
  try {
    const json::value root = json::parse(text);
    if (root.at("format").as_int64() != 1) {
      throw StateFileError("unsupported state file format");
    }
    KeydStateFile state;
    if (const json::value* g = root.as_object().if_contains("generation")) {
      state.generation = g->to_number<std::uint64_t>();  // absent in files older keyd wrote
    }
    for (const auto& [name, ring_value] : root.at("keyrings").as_object()) {
      Keyring ring;
      ring.name = std::string(name);
      const std::optional<p11::Algorithm> alg = p11::parse_algorithm(ring_value.at("algorithm").as_string());
      if (!alg) {
        throw StateFileError("unknown algorithm in keyring " + ring.name);
      }
      ring.algorithm = *alg;
      ring.issuer = std::string(ring_value.at("issuer").as_string());
      for (const json::value& v : ring_value.at("versions").as_array()) {
        KeyVersion kv;
        kv.version = static_cast<int>(v.at("version").as_int64());
        kv.kid = std::string(v.at("kid").as_string());
        kv.state = parse_key_state(v.at("state").as_string());
        kv.created = v.at("created").as_int64();
        kv.promoted = v.at("promoted").as_int64();
        kv.demoted = v.at("demoted").as_int64();
        kv.retired = v.at("retired").as_int64();
        if (const json::value* label = v.as_object().if_contains("label")) {
          kv.label = std::string(label->as_string());
        }
        ring.versions.push_back(kv);
      }
      state.keyrings.emplace(ring.name, std::move(ring));
    }
    state.sealing = symmetric_from_json(root.at("sealing"));
    state.pepper = symmetric_from_json(root.at("pepper"));
    state.audit_key_version = static_cast<int>(root.at("audit_key_version").as_int64());
    return state;
  } catch (const StateFileError&) {
    throw;
  } catch (const std::exception& e) {
    throw StateFileError(std::string("malformed state file: ") + e.what());
  }
}

std::optional<KeydStateFile> load_state(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) {
      return std::nullopt;
    }
    throw StateFileError("cannot read " + path + ": " + std::strerror(errno));
  }
  std::ostringstream s;
  s << in.rdbuf();
  return parse_state(s.str());
}

void save_state(const std::string& path, const KeydStateFile& state) {
  const std::string tmp = path + ".tmp";
  const std::string text = serialize_state(state);
  {
    const UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) {
      throw StateFileError("cannot create " + tmp + ": " + std::strerror(errno));
    }
    write_all(fd.get(), text, tmp);
    if (::fsync(fd.get()) != 0) {
      throw StateFileError("cannot fsync " + tmp + ": " + std::strerror(errno));
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    throw StateFileError("cannot rename " + tmp + ": " + std::strerror(errno));
  }
  const std::string dir = path.substr(0, path.rfind('/') == std::string::npos ? 0 : path.rfind('/'));
  const UniqueFd dfd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.valid()) {
    ::fsync(dfd.get());  // makes the rename itself durable
  }
}

std::string signing_key_label(const std::string& keyring, int version) {
  return std::string(kSigningLabelPrefix) + keyring + ":v" + std::to_string(version);
}
std::string version_label(const std::string& keyring, const KeyVersion& v) {
  return v.label.empty() ? signing_key_label(keyring, v.version) : v.label;
}
std::string sealing_key_label(int version) { return "orbitnest:seal:v" + std::to_string(version); }
std::string pepper_key_label(int version) { return "orbitnest:pepper:v" + std::to_string(version); }
std::string audit_key_label(int version) { return "orbitnest:audit:v" + std::to_string(version); }

}  // namespace orbitnest::keyd
