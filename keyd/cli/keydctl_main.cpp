// keydctl: the operator's CLI for keyd. Human-readable by default, --json
// for machines. Exit codes for scripts:
//   0 ok · 1 refused, not ready, or the audit log does not verify ·
//   2 keyd unreachable · 64 usage
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "keyd/audit/audit_verifier.h"
#include "keyd/client/keyd_client.h"
#include "keyd/client/keyd_connection.h"

namespace {

using namespace orbitnest::keyd;

constexpr const char* kUsage =
    "usage: keydctl [--socket PATH] [--json] COMMAND\n"
    "  status                      is keyd up and logged in to its token\n"
    "  keys [KEYRING]              the keys of every (or one) keyring\n"
    "  rotate KEYRING [--force]    next -> current -> previous, new next\n"
    "  jwks KEYRING                the published public keys\n"
    "  audit tail [-n N] [--file PATH]\n"
    "  audit verify [--pubkey FILE] [--file PATH] [--checkpoint-every N]\n"
    "  audit pubkey                the audit key (PEM), for offline checks\n";

struct Options {
  std::string socket = "/run/orbitnest/keyd.sock";
  std::string audit_file = "/var/log/orbitnest-keyd/audit.log";
  std::string pubkey_file;
  std::optional<std::uint64_t> checkpoint_every;  // for a log keyd never signed
  bool json = false;
  bool force = false;
  int tail = 20;
  std::vector<std::string> words;
};

int usage() {
  std::cerr << kUsage;
  return 64;
}

std::string time_text(std::int64_t t) {
  if (t == 0) {
    return "-";
  }
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  std::ostringstream out;
  out << std::put_time(&tm, "%Y-%m-%d %H:%M:%SZ");
  return out.str();
}

std::string read_file(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

KeydConnection connect(const Options& o) { return KeydConnection(o.socket, std::chrono::milliseconds(10000)); }

int cmd_status(const Options& o) {
  KeydConnection conn = connect(o);
  const KeydStatus st = KeydClient(conn).status();
  const std::string& detail = st.detail;
  const std::string& token = st.token_label;
  const bool ready = st.ready;
  if (o.json) {
    std::cout << boost::json::serialize(boost::json::object{
                     {"ready", ready}, {"detail", detail}, {"token", token}, {"version", conn.keyd_version()}})
              << "\n";
  } else {
    std::cout << "keyd " << conn.keyd_version() << ": " << (ready ? "ready" : "NOT READY") << " (" << detail
              << "), token '" << token << "'\n";
  }
  return ready ? 0 : 1;
}

void print_keys(const std::string& json) {
  const boost::json::array keys = boost::json::parse(json).as_array();
  std::printf("%-16s %-44s %-6s %-8s %-21s %-21s %-21s %s\n", "KEYRING", "KID", "ALG", "STATE", "CREATED",
              "PROMOTED", "RETIRES", "SIGNATURES");
  for (const boost::json::value& k : keys) {
    const std::string state(k.at("state").as_string());
    std::printf("%-16s %-44s %-6s %-8s %-21s %-21s %-21s %llu\n", std::string(k.at("keyring").as_string()).c_str(),
                std::string(k.at("kid").as_string()).c_str(), std::string(k.at("alg").as_string()).c_str(),
                state.c_str(), time_text(k.at("created").as_int64()).c_str(),
                time_text(k.at("promoted").as_int64()).c_str(),
                (state == "retired" ? time_text(k.at("retired").as_int64())
                                    : time_text(k.at("retires_at").as_int64()))
                    .c_str(),
                static_cast<unsigned long long>(k.at("signatures").to_number<std::uint64_t>()));
  }
}

int cmd_keys(const Options& o, const std::string& keyring) {
  KeydConnection conn = connect(o);
  const std::string json = KeydClient(conn).list_keys(keyring);
  if (o.json) {
    std::cout << json << "\n";
  } else {
    print_keys(json);
  }
  return 0;
}

int cmd_rotate(const Options& o, const std::string& keyring) {
  KeydConnection conn = connect(o);
  const std::string json = KeydClient(conn).rotate(keyring, o.force);
  if (o.json) {
    std::cout << json << "\n";
  } else {
    std::cout << "rotated " << keyring << ":\n";
    print_keys(json);
  }
  return 0;
}

int cmd_jwks(const Options& o, const std::string& keyring) {
  KeydConnection conn = connect(o);
  std::cout << KeydClient(conn).jwks(keyring) << "\n";
  return 0;
}

int cmd_audit_tail(const Options& o) {
  bool ok = false;
  const std::string text = read_file(o.audit_file, &ok);
  if (!ok) {
    std::cerr << "keydctl: cannot read " << o.audit_file << "\n";
    return 1;
  }
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  const std::size_t from = lines.size() > static_cast<std::size_t>(o.tail) ? lines.size() - o.tail : 0;
  for (std::size_t i = from; i < lines.size(); ++i) {
    std::cout << lines[i] << "\n";
  }
  return 0;
}

int cmd_audit_pubkey(const Options& o) {
  KeydConnection conn = connect(o);
  std::cout << KeydClient(conn).audit_pubkey();
  return 0;
}

int cmd_audit_verify(const Options& o) {
  bool ok = false;
  const std::string text = read_file(o.audit_file, &ok);
  if (!ok) {
    std::cerr << "keydctl: cannot read " << o.audit_file << "\n";
    return 1;
  }
  std::string pem;
  if (!o.pubkey_file.empty()) {
    pem = read_file(o.pubkey_file, &ok);
    if (!ok) {
      std::cerr << "keydctl: cannot read " << o.pubkey_file << "\n";
      return 1;
    }
  }
  // keyd's head catches a log cut at a line boundary; without keyd, the
  // chain and checkpoints are still checked.
  std::optional<AuditHead> head;
  std::string head_note = "keyd not reachable: end of log not checked";
  try {
    KeydConnection conn = connect(o);
    KeydClient client(conn);
    const AuditHeadAnswer h = client.audit_head();
    head = AuditHead{h.seq, h.hash};
    head_note = "ends where keyd's head is";
    if (pem.empty()) {
      pem = client.audit_pubkey();
    }
  } catch (const KeydUnavailable&) {
  }
  const AuditVerdict v = verify_audit_log(text, AuditExpectations{pem, head, o.checkpoint_every});
  if (o.json) {
    std::cout << boost::json::serialize(boost::json::object{{"ok", v.ok},
                                                            {"records", v.records},
                                                            {"checkpoints", v.checkpoints},
                                                            {"bad_record", v.bad_record},
                                                            {"problem", v.problem},
                                                            {"signatures_checked", !pem.empty()},
                                                            {"unsigned_tail", v.unsigned_tail},
                                                            {"head_checked", head.has_value()}})
              << "\n";
  } else if (v.ok) {
    std::cout << "audit log " << o.audit_file << ": chain whole, " << v.records << " records, " << v.checkpoints
              << " checkpoints" << (pem.empty() ? " (signatures NOT checked: no public key)" : " signed and verified")
              << "; " << head_note << "\n";
    if (v.unsigned_tail > 0) {
      // Within the spacing, but only keyd's head (or a later checkpoint)
      // vouches for these.
      std::cout << "  " << v.unsigned_tail << " record(s) after the last checkpoint carry no signature yet"
                << (head ? " (they match keyd's head)" : "") << "\n";
    }
  } else {
    std::cout << "audit log " << o.audit_file << ": BROKEN at record " << v.bad_record << ": " << v.problem << "\n";
  }
  return v.ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--socket" && i + 1 < argc) {
      o.socket = argv[++i];
    } else if (a == "--file" && i + 1 < argc) {
      o.audit_file = argv[++i];
    } else if (a == "--pubkey" && i + 1 < argc) {
      o.pubkey_file = argv[++i];
    } else if (a == "--checkpoint-every" && i + 1 < argc) {
      const long long every = std::atoll(argv[++i]);
      if (every < 1) {
        return usage();
      }
      o.checkpoint_every = static_cast<std::uint64_t>(every);
    } else if (a == "-n" && i + 1 < argc) {
      o.tail = std::atoi(argv[++i]);
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--force") {
      o.force = true;
    } else if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (!a.empty() && a[0] != '-') {
      o.words.push_back(a);
    } else {
      return usage();
    }
  }
  const std::vector<std::string>& w = o.words;
  try {
    if (w.size() == 1 && w[0] == "status") {
      return cmd_status(o);
    }
    if ((w.size() == 1 || w.size() == 2) && w[0] == "keys") {
      return cmd_keys(o, w.size() == 2 ? w[1] : "");
    }
    if (w.size() == 2 && w[0] == "rotate") {
      return cmd_rotate(o, w[1]);
    }
    if (w.size() == 2 && w[0] == "jwks") {
      return cmd_jwks(o, w[1]);
    }
    if (w.size() == 2 && w[0] == "audit" && w[1] == "tail") {
      return cmd_audit_tail(o);
    }
    if (w.size() == 2 && w[0] == "audit" && w[1] == "verify") {
      return cmd_audit_verify(o);
    }
    if (w.size() == 2 && w[0] == "audit" && w[1] == "pubkey") {
      return cmd_audit_pubkey(o);
    }
  } catch (const KeydUnavailable& e) {
    std::cerr << "keydctl: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "keydctl: " << e.what() << "\n";
    return 1;
  }
  return usage();
}
