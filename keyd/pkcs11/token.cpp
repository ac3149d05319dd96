#include "keyd/pkcs11/token.h"

#include <algorithm>
#include <stdexcept>

namespace orbitnest::keyd::p11 {
namespace {

std::string trim_label(const CK_UTF8CHAR (&label)[32]) {
  std::string out(reinterpret_cast<const char*>(label), sizeof(label));
  while (!out.empty() && (out.back() == ' ' || out.back() == '\0')) {
    out.pop_back();
  }
  return out;
}

}  // namespace

Token::Token(std::shared_ptr<Module> module, const std::string& label, hardening::SecretBytes pin, int pool_size)
    : m_module(std::move(module)),
      m_label(label),
      m_slot(find_slot(*m_module, label)),
      m_pin(std::move(pin)),
      m_pool_size(std::max(pool_size, 1)) {
  login();
}

CK_SLOT_ID Token::find_slot(const Module& module, const std::string& label) {
  CK_FUNCTION_LIST& fn = module.fn();
  CK_ULONG count = 0;
  check("C_GetSlotList", fn.C_GetSlotList(CK_TRUE, nullptr, &count));
  std::vector<CK_SLOT_ID> slots(count);
  if (count > 0) {
    check("C_GetSlotList", fn.C_GetSlotList(CK_TRUE, slots.data(), &count));
  }
  slots.resize(count);
  for (const CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    if (fn.C_GetTokenInfo(slot, &info) != CKR_OK) {
      continue;
    }
    if (trim_label(info.label) == label) {
      return slot;
    }
  }
  throw std::runtime_error("no PKCS#11 token labelled '" + label + "' in module " + module.path());
}

void Token::login() {
  auto anchor = std::make_unique<Session>(*m_module, m_slot);
  const CK_RV rv = m_module->fn().C_Login(anchor->handle(), CKU_USER, const_cast<CK_UTF8CHAR*>(m_pin.data()),
                                          static_cast<CK_ULONG>(m_pin.size()));
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
    throw Pkcs11Error("C_Login", rv);
  }
  m_anchor = std::move(anchor);
}

void Token::recover() {
  const std::lock_guard lock(m_mutex);
  // Drop every idle session: if one was invalidated, the rest likely were.
  m_open -= static_cast<int>(m_idle.size());
  m_idle.clear();
  m_anchor.reset();
  login();
}

Token::Lease::Lease(Token& token) : m_token(token) {
  std::unique_lock lock(token.m_mutex);
  token.m_available.wait(lock, [&] { return !token.m_idle.empty() || token.m_open < token.m_pool_size; });
  if (!token.m_idle.empty()) {
    m_session = std::move(token.m_idle.back());
    token.m_idle.pop_back();
    return;
  }
  ++token.m_open;
  try {
    m_session = std::make_unique<Session>(*token.m_module, token.m_slot);
  } catch (...) {
    --token.m_open;
    throw;
  }
}

Token::Lease::~Lease() {
  {
    const std::lock_guard lock(m_token.m_mutex);
    if (m_session) {
      m_token.m_idle.push_back(std::move(m_session));
    } else {
      --m_token.m_open;
    }
  }
  m_token.m_available.notify_one();
}

std::vector<std::uint8_t> Token::random_bytes(std::size_t n) {
  return with_session([n](Session& s) {
    std::vector<std::uint8_t> out(n);
    check("C_GenerateRandom", s.fn().C_GenerateRandom(s.handle(), out.data(), static_cast<CK_ULONG>(n)));
    return out;
  });
}

}  // namespace orbitnest::keyd::p11
