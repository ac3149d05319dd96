#include "keyd/audit/audit_verifier.h"

#include <botan/data_src.h>
#include <botan/pk_keys.h>
#include <botan/pubkey.h>
#include <botan/x509_key.h>

#include <boost/json.hpp>
#include <memory>

#include "keyd/audit/audit_record.h"
#include "keyd/keyring/base64url.h"

namespace orbitnest::keyd {

AuditVerdict verify_audit_log(const std::string& text, const std::string& public_key_pem,
                              const std::optional<AuditHead>& expected_head) {
  AuditVerdict v;
  std::unique_ptr<Botan::Public_Key> key;
  std::unique_ptr<Botan::PK_Verifier> verifier;
  if (!public_key_pem.empty()) {
    Botan::DataSource_Memory src(public_key_pem);
    key.reset(Botan::X509::load_key(src));
    verifier = std::make_unique<Botan::PK_Verifier>(*key, "EMSA1(SHA-256)", Botan::IEEE_1363);
  }
  const auto bad = [&](std::uint64_t line, std::string problem) {
    v.ok = false;
    v.bad_record = line;
    v.problem = std::move(problem);
    return v;
  };
  std::string prev(kGenesisHash);
  std::size_t pos = 0;
  std::uint64_t line_no = 0;
  while (pos < text.size()) {
    ++line_no;
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      return bad(line_no, "record is cut off (no end of line): the file was truncated");
    }
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    boost::json::error_code ec;
    const boost::json::value parsed = boost::json::parse(line, ec);
    if (ec || !parsed.is_object()) {
      return bad(line_no, "not a JSON record");
    }
    const boost::json::object& r = parsed.as_object();
    const boost::json::value* seq = r.if_contains("seq");
    const boost::json::value* prev_field = r.if_contains("prev");
    if (seq == nullptr || !seq->is_int64() || prev_field == nullptr || !prev_field->is_string()) {
      return bad(line_no, "record lacks seq or prev");
    }
    if (static_cast<std::uint64_t>(seq->as_int64()) != line_no) {
      return bad(line_no, "sequence number " + std::to_string(seq->as_int64()) + " where " + std::to_string(line_no) +
                              " was expected: a record was removed or inserted");
    }
    if (prev_field->as_string() != prev) {
      return bad(line_no, "does not chain to the record before it: that record was altered");
    }
    const boost::json::value* event = r.if_contains("event");
    if (event != nullptr && event->is_string() && event->as_string() == "checkpoint") {
      ++v.checkpoints;
      if (verifier) {
        const boost::json::value* sig = r.if_contains("sig");
        const std::optional<std::string> raw =
            sig != nullptr && sig->is_string() ? base64url_decode(sig->as_string()) : std::nullopt;
        const std::string msg = checkpoint_message(line_no, prev);
        if (!raw || !verifier->verify_message(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size(),
                                              reinterpret_cast<const std::uint8_t*>(raw->data()), raw->size())) {
          return bad(line_no, "checkpoint signature does not verify with the audit key");
        }
      }
    }
    prev = sha256_hex(line);
    v.records = line_no;
  }
  v.head = AuditHead{v.records, prev};
  if (expected_head) {
    if (expected_head->seq > v.records) {
      return bad(v.records + 1, "keyd has written " + std::to_string(expected_head->seq) +
                                    " records but the file ends at " + std::to_string(v.records) + ": truncated");
    }
    if (expected_head->seq == v.records && expected_head->hash != prev) {
      return bad(v.records, "the last record differs from the one keyd wrote");
    }
  }
  return v;
}

}  // namespace orbitnest::keyd
