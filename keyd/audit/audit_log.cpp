#include "keyd/audit/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "keyd/audit/audit_record.h"
#include "keyd/audit/audit_verifier.h"
#include "keyd/keyring/base64url.h"
#include "systemd/log.h"

namespace orbitnest::keyd {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Test hook for the fail-closed rule: with ORBITNEST_KEYD_FAULT set to
// "audit.fail_when_flagged", writes fail while "<audit file>.fail" exists,
// as they would on a full or read-only disk.
bool injected_failure(const std::string& path) {
  static const bool armed = [] {
    const char* f = std::getenv("ORBITNEST_KEYD_FAULT");
    return f != nullptr && std::string_view(f) == "audit.fail_when_flagged";
  }();
  return armed && ::access((path + ".fail").c_str(), F_OK) == 0;
}

}  // namespace

AuditLog::AuditLog(std::string path, int checkpoint_every)
    : m_path(std::move(path)),
      m_checkpoint_every(static_cast<std::uint64_t>(checkpoint_every)),
      m_prev(kGenesisHash),
      m_limit(m_checkpoint_every) {
  // Continue only a chain that verifies; its signatures are checked once
  // the HSM is open (start_signing).
  const AuditVerdict v = verify_audit_log(read_file(), AuditExpectations{"", std::nullopt, m_checkpoint_every});
  if (!v.ok) {
    throw AuditLogRejected("the audit log " + m_path + " does not verify at record " + std::to_string(v.bad_record) +
                           ": " + v.problem + "; keyd does not continue it (check it with keydctl audit verify)");
  }
  m_seq = v.head.seq;
  m_prev = v.head.hash;
  m_since_checkpoint = v.unsigned_tail;
  if (v.checkpoint_every != 0) {
    m_limit = v.checkpoint_every;
  }
  m_fd.reset(::open(m_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!m_fd.valid()) {
    throw AuditWriteFailed("cannot open audit log " + m_path + ": " + std::strerror(errno));
  }
}

std::string AuditLog::read_file() const {
  std::ifstream in(m_path, std::ios::binary);
  if (!in) {
    if (::access(m_path.c_str(), F_OK) == 0) {
      throw AuditLogRejected("cannot read the audit log " + m_path);
    }
    return "";
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void AuditLog::start_signing(Signer signer, std::string key_label, const std::string& public_key_pem) {
  const std::lock_guard lock(m_mutex);
  // The file must still be the one checked at start plus what this process
  // wrote since, and every checkpoint in it must be the HSM key's.
  const AuditVerdict v = verify_audit_log(
      read_file(), AuditExpectations{public_key_pem, AuditHead{m_seq, m_prev}, m_checkpoint_every});
  if (!v.ok) {
    throw AuditLogRejected("the audit log " + m_path + " does not verify with the HSM audit key at record " +
                           std::to_string(v.bad_record) + ": " + v.problem +
                           "; keyd does not continue it (check it with keydctl audit verify)");
  }
  m_signer = std::move(signer);
  m_key_label = std::move(key_label);
  if (m_seq > 0) {
    checkpoint_locked();  // the head keyd continues is now signed
  }
}

void AuditLog::append(const AuditEvent& e) {
  boost::json::object r;
  r["event"] = e.event;
  if (!e.op.empty()) {
    r["op"] = e.op;
  }
  if (!e.keyring.empty()) {
    r["keyring"] = e.keyring;
  }
  if (!e.kid.empty()) {
    r["kid"] = e.kid;
  }
  r["result"] = e.result;
  if (e.peer) {
    r["peer"] = boost::json::object{{"uid", e.peer->uid}, {"gid", e.peer->gid}, {"pid", e.peer->pid},
                                    {"comm", e.peer_command}};
  }
  if (!e.detail.empty()) {
    r["detail"] = e.detail;
  }
  const std::lock_guard lock(m_mutex);
  if (m_since_checkpoint >= m_limit) {
    checkpoint_locked();  // make room, or refuse the record
  }
  write_line(std::move(r));
  if (++m_since_checkpoint >= m_limit && m_signer) {
    try {
      checkpoint_locked();
    } catch (const AuditWriteFailed& ex) {
      // The record is written; the next one retries the checkpoint first.
      log::error("keyd.audit_checkpoint_failed", {{"reason", ex.what()}});
    }
  }
}

void AuditLog::checkpoint() {
  const std::lock_guard lock(m_mutex);
  if (m_signer) {
    checkpoint_locked();
  }
}

void AuditLog::checkpoint_locked() {
  if (!m_signer) {
    throw AuditWriteFailed("the audit log holds " + std::to_string(m_since_checkpoint) +
                           " records since its last checkpoint and none can be signed before the HSM is open");
  }
  const std::uint64_t seq = m_seq + 1;
  std::string sig;
  try {
    sig = m_signer(checkpoint_message(seq, m_prev, m_checkpoint_every));
  } catch (const std::exception& e) {
    throw AuditWriteFailed(std::string("cannot sign an audit checkpoint: ") + e.what());
  }
  boost::json::object r;
  r["event"] = "checkpoint";
  r["key"] = m_key_label;
  r["every"] = m_checkpoint_every;
  r["sig"] = base64url_encode(sig);
  r["result"] = "ok";
  write_line(std::move(r));
  m_since_checkpoint = 0;
  m_limit = m_checkpoint_every;
}

void AuditLog::write_line(boost::json::object record) {
  if (injected_failure(m_path)) {
    throw AuditWriteFailed("cannot write the audit log: No space left on device (injected)");
  }
  // seq, time and prev first, so the file reads well.
  boost::json::object r;
  r["seq"] = m_seq + 1;
  r["time_ms"] = now_ms();
  for (auto& kv : record) {
    r[kv.key()] = std::move(kv.value());
  }
  r["prev"] = m_prev;
  const std::string line = boost::json::serialize(r);
  const std::string with_newline = line + "\n";
  const off_t size_before = ::lseek(m_fd.get(), 0, SEEK_END);
  // A partial line would break the chain for every later record: cut back.
  const auto undo = [&] {
    if (size_before >= 0 && ::ftruncate(m_fd.get(), size_before) != 0) {
      log::error("keyd.audit_truncate_failed", {{"file", m_path}});
    }
  };
  std::size_t off = 0;
  while (off < with_newline.size()) {
    const ssize_t n = ::write(m_fd.get(), with_newline.data() + off, with_newline.size() - off);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int saved = errno;
      undo();
      throw AuditWriteFailed(std::string("cannot write the audit log: ") + std::strerror(saved));
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fdatasync(m_fd.get()) != 0) {
    undo();
    throw AuditWriteFailed(std::string("cannot sync the audit log: ") + std::strerror(errno));
  }
  ++m_seq;
  m_prev = sha256_hex(line);
}

std::uint64_t AuditLog::head_seq() const {
  const std::lock_guard lock(m_mutex);
  return m_seq;
}

std::string AuditLog::head_hash() const {
  const std::lock_guard lock(m_mutex);
  return m_prev;
}

}  // namespace orbitnest::keyd
