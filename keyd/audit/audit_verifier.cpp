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
namespace {

std::string n(std::uint64_t v) { return std::to_string(v); }

}  // namespace

AuditVerdict verify_audit_log(const std::string& text, const AuditExpectations& expect) {
  AuditVerdict v;
  std::unique_ptr<Botan::Public_Key> key;
  std::unique_ptr<Botan::PK_Verifier> verifier;
  if (!expect.public_key_pem.empty()) {
    Botan::DataSource_Memory src(expect.public_key_pem);
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
  std::uint64_t gap = 0;              // records since the last checkpoint (or the start)
  std::uint64_t last_checkpoint = 0;  // its line
  std::uint64_t limit = 0;            // spacing the last checkpoint promised (0: no checkpoint yet)
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
      return bad(line_no, "sequence number " + std::to_string(seq->as_int64()) + " where " + n(line_no) +
                              " was expected: a record was removed or inserted");
    }
    if (prev_field->as_string() != prev) {
      return bad(line_no, "does not chain to the record before it: that record was altered");
    }
    const boost::json::value* event = r.if_contains("event");
    if (event != nullptr && event->is_string() && event->as_string() == "checkpoint") {
      const boost::json::value* every = r.if_contains("every");
      if (every == nullptr || !every->is_int64() || every->as_int64() < 1 ||
          static_cast<std::uint64_t>(every->as_int64()) > kMaxCheckpointEvery) {
        return bad(line_no, "checkpoint without a valid spacing (\"every\")");
      }
      const auto promised = static_cast<std::uint64_t>(every->as_int64());
      // The records before the first checkpoint are bound by its spacing.
      if (limit == 0 && gap > promised) {
        return bad(line_no - gap + promised, "no checkpoint within the first " + n(promised + 1) +
                                                 " records: checkpoints were removed or records inserted");
      }
      if (verifier) {
        const boost::json::value* sig = r.if_contains("sig");
        const std::optional<std::string> raw =
            sig != nullptr && sig->is_string() ? base64url_decode(sig->as_string()) : std::nullopt;
        const std::string msg = checkpoint_message(line_no, prev, promised);
        if (!raw || !verifier->verify_message(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size(),
                                              reinterpret_cast<const std::uint8_t*>(raw->data()), raw->size())) {
          return bad(line_no, "checkpoint signature does not verify with the audit key");
        }
      }
      ++v.checkpoints;
      limit = promised;
      last_checkpoint = line_no;
      gap = 0;
    } else if (++gap > limit && limit != 0) {
      return bad(line_no, "more than " + n(limit) + " records after the checkpoint at record " + n(last_checkpoint) +
                              " without another: a checkpoint was removed or records were inserted");
    }
    prev = sha256_hex(line);
    v.records = line_no;
    if (expect.head && expect.head->seq == line_no && expect.head->hash != prev) {
      return bad(line_no, "this record differs from the one keyd wrote");
    }
  }
  if (limit == 0 && v.records > 0) {
    if (!expect.checkpoint_every) {
      return bad(1, "the log holds no signed checkpoint (a log keyd never signed is checked only against "
                    "the configured spacing)");
    }
    if (v.records > *expect.checkpoint_every) {
      return bad(*expect.checkpoint_every + 1, "no checkpoint within the first " + n(*expect.checkpoint_every + 1) +
                                                   " records: checkpoints were removed or records inserted");
    }
  }
  v.head = AuditHead{v.records, prev};
  v.unsigned_tail = gap;
  v.checkpoint_every = limit;
  if (expect.head) {
    if (expect.head->seq > v.records) {
      return bad(v.records + 1, "keyd has written " + n(expect.head->seq) + " records but the file ends at " +
                                    n(v.records) + ": truncated");
    }
    if (expect.head->seq < v.records) {
      return bad(expect.head->seq + 1, "the file goes on after keyd's head (record " + n(expect.head->seq) +
                                           "): records keyd did not write were appended");
    }
  }
  return v;
}

}  // namespace orbitnest::keyd
