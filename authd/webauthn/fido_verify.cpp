#include "authd/webauthn/fido_verify.h"

#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <fido/rs256.h>

#include <memory>
#include <mutex>

namespace orbitnest::authd::webauthn {
namespace {

struct CredFree {
  void operator()(fido_cred_t* c) const { fido_cred_free(&c); }
};
struct AssertFree {
  void operator()(fido_assert_t* a) const { fido_assert_free(&a); }
};
struct Es256Free {
  void operator()(es256_pk_t* k) const { es256_pk_free(&k); }
};
struct Rs256Free {
  void operator()(rs256_pk_t* k) const { rs256_pk_free(&k); }
};
struct EddsaFree {
  void operator()(eddsa_pk_t* k) const { eddsa_pk_free(&k); }
};
using FidoCred = std::unique_ptr<fido_cred_t, CredFree>;
using FidoAssert = std::unique_ptr<fido_assert_t, AssertFree>;

void init_once() {
  static std::once_flag once;
  std::call_once(once, [] { fido_init(0); });
}

const unsigned char* u8(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// fido_*_verify demand the authenticator extensions they know to be
// exactly those configured (pitfall 8 of webauthn-rp.md): mirror them.
int extension_mask(const AuthenticatorExtensions& e) {
  int mask = 0;
  if (e.hmac_secret) mask |= FIDO_EXT_HMAC_SECRET;
  if (e.cred_protect != 0) mask |= FIDO_EXT_CRED_PROTECT;
  if (e.cred_blob) mask |= FIDO_EXT_CRED_BLOB;
  if (e.min_pin_length >= 0) mask |= FIDO_EXT_MINPINLEN;
  return mask;
}

}  // namespace

std::string FidoResult::message() const { return fido_strerr(code); }

FidoResult verify_attestation_statement(const CredentialCheck& check) {
  init_once();
  FidoCred cred(fido_cred_new());
  if (!cred) {
    return {FIDO_ERR_INTERNAL};
  }
  const std::string fmt(check.fmt);
  const std::string rp(check.rp_id);
  const AuthenticatorExtensions& ext = check.auth_data->extensions;
  int r = fido_cred_set_type(cred.get(), check.alg);  // first, once (pitfall 1)
  if (r == FIDO_OK) r = fido_cred_set_clientdata(cred.get(), u8(check.client_data_json), check.client_data_json.size());
  if (r == FIDO_OK) r = fido_cred_set_rp(cred.get(), rp.c_str(), nullptr);
  if (r == FIDO_OK && extension_mask(ext) != 0) r = fido_cred_set_extensions(cred.get(), extension_mask(ext));
  if (r == FIDO_OK && ext.cred_protect != 0) r = fido_cred_set_prot(cred.get(), ext.cred_protect);
  if (r == FIDO_OK && ext.min_pin_length >= 0) r = fido_cred_set_pin_minlen(cred.get(), static_cast<size_t>(ext.min_pin_length));
  if (r == FIDO_OK) r = fido_cred_set_authdata_raw(cred.get(), u8(check.auth_data->raw), check.auth_data->raw.size());
  if (r == FIDO_OK) r = fido_cred_set_fmt(cred.get(), fmt.c_str());
  if (r == FIDO_OK) r = fido_cred_set_attstmt(cred.get(), u8(check.att_stmt_cbor), check.att_stmt_cbor.size());
  if (r == FIDO_OK && check.require_uv) r = fido_cred_set_uv(cred.get(), FIDO_OPT_TRUE);
  if (r == FIDO_OK) r = check.self_attested ? fido_cred_verify_self(cred.get()) : fido_cred_verify(cred.get());
  return {r};
}

FidoResult verify_assertion_signature(const AssertionCheck& check) {
  init_once();
  FidoAssert assertion(fido_assert_new());
  if (!assertion) {
    return {FIDO_ERR_INTERNAL};
  }
  const std::string rp(check.rp_id);
  const AuthenticatorExtensions& ext = check.auth_data->extensions;
  int mask = 0;
  if (ext.hmac_secret) mask |= FIDO_EXT_HMAC_SECRET;
  if (ext.cred_blob) mask |= FIDO_EXT_CRED_BLOB;
  int r = fido_assert_set_rp(assertion.get(), rp.c_str());
  if (r == FIDO_OK) r = fido_assert_set_clientdata(assertion.get(), u8(check.client_data_json), check.client_data_json.size());
  if (r == FIDO_OK) r = fido_assert_set_count(assertion.get(), 1);  // before the per-statement setters
  if (r == FIDO_OK && mask != 0) r = fido_assert_set_extensions(assertion.get(), mask);
  if (r == FIDO_OK) r = fido_assert_set_authdata_raw(assertion.get(), 0, u8(check.auth_data->raw), check.auth_data->raw.size());
  if (r == FIDO_OK) r = fido_assert_set_sig(assertion.get(), 0, u8(check.signature), check.signature.size());
  // FIDO_OPT_TRUE, never a bool: the default (OMIT) checks no user presence.
  if (r == FIDO_OK) r = fido_assert_set_up(assertion.get(), FIDO_OPT_TRUE);
  if (r == FIDO_OK && check.require_uv) r = fido_assert_set_uv(assertion.get(), FIDO_OPT_TRUE);
  if (r != FIDO_OK) {
    return {r};
  }
  const CoseKey& key = *check.key;
  if (key.alg == kCoseEs256) {
    std::unique_ptr<es256_pk_t, Es256Free> pk(es256_pk_new());
    if (!pk || (r = es256_pk_from_ptr(pk.get(), u8(key.raw), key.raw.size())) != FIDO_OK) return {pk ? r : FIDO_ERR_INTERNAL};
    return {fido_assert_verify(assertion.get(), 0, COSE_ES256, pk.get())};
  }
  if (key.alg == kCoseRs256) {
    std::unique_ptr<rs256_pk_t, Rs256Free> pk(rs256_pk_new());
    if (!pk || (r = rs256_pk_from_ptr(pk.get(), u8(key.raw), key.raw.size())) != FIDO_OK) return {pk ? r : FIDO_ERR_INTERNAL};
    return {fido_assert_verify(assertion.get(), 0, COSE_RS256, pk.get())};
  }
  if (key.alg == kCoseEdDsa) {
    std::unique_ptr<eddsa_pk_t, EddsaFree> pk(eddsa_pk_new());
    if (!pk || (r = eddsa_pk_from_ptr(pk.get(), u8(key.raw), key.raw.size())) != FIDO_OK) return {pk ? r : FIDO_ERR_INTERNAL};
    return {fido_assert_verify(assertion.get(), 0, COSE_EDDSA, pk.get())};
  }
  return {FIDO_ERR_UNSUPPORTED_OPTION};
}

}  // namespace orbitnest::authd::webauthn
