#include "keyd/pkcs11/secret_key.h"

#include "keyd/pkcs11/attributes.h"
#include "keyd/pkcs11/pkcs11_error.h"

namespace orbitnest::keyd::p11 {
namespace {

constexpr CK_ULONG kTagBits = 128;

CK_GCM_PARAMS gcm_params(std::string_view iv, std::string_view aad) {
  CK_GCM_PARAMS p{};
  p.iv_ptr = reinterpret_cast<CK_BYTE*>(const_cast<char*>(iv.data()));
  p.iv_len = static_cast<CK_ULONG>(iv.size());
  p.iv_bits = static_cast<CK_ULONG>(iv.size() * 8);
  p.aad_ptr = reinterpret_cast<CK_BYTE*>(const_cast<char*>(aad.data()));
  p.aad_len = static_cast<CK_ULONG>(aad.size());
  p.tag_bits = kTagBits;
  return p;
}

}  // namespace

CK_OBJECT_HANDLE generate_secret_key(Session& s, SecretKeyKind kind, const std::string& label) {
  const bool aes = kind == SecretKeyKind::aes_gcm_256;
  AttributeList t;
  t.add_ulong(CKA_CLASS, CKO_SECRET_KEY)
      .add_ulong(CKA_KEY_TYPE, aes ? CKK_AES : CKK_GENERIC_SECRET)
      .add_ulong(CKA_VALUE_LEN, 32)
      .add_bool(CKA_TOKEN, true)
      .add_bool(CKA_PRIVATE, true)
      .add_bool(CKA_SENSITIVE, true)
      .add_bool(CKA_EXTRACTABLE, false)
      .add_bool(CKA_ENCRYPT, aes)
      .add_bool(CKA_DECRYPT, aes)
      .add_bool(CKA_SIGN, !aes)
      .add_bool(CKA_VERIFY, !aes)
      .add_bool(CKA_WRAP, false)
      .add_bool(CKA_UNWRAP, false)
      .add_bool(CKA_DERIVE, false)
      .add_bytes(CKA_LABEL, label)
      .add_bytes(CKA_ID, label);
  CK_MECHANISM mech{aes ? CKM_AES_KEY_GEN : CKM_GENERIC_SECRET_KEY_GEN, nullptr, 0};
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  check("C_GenerateKey", s.fn().C_GenerateKey(s.handle(), &mech, t.data(), t.count(), &key));
  return key;
}

std::string aes_gcm_encrypt(Session& s, CK_OBJECT_HANDLE key, std::string_view iv, std::string_view aad,
                            std::string_view plaintext) {
  CK_GCM_PARAMS params = gcm_params(iv, aad);
  CK_MECHANISM mech{CKM_AES_GCM, &params, sizeof(params)};
  check("C_EncryptInit", s.fn().C_EncryptInit(s.handle(), &mech, key));
  std::string out(plaintext.size() + kTagBits / 8, '\0');
  CK_ULONG len = static_cast<CK_ULONG>(out.size());
  check("C_Encrypt", s.fn().C_Encrypt(s.handle(), reinterpret_cast<CK_BYTE*>(const_cast<char*>(plaintext.data())),
                                      static_cast<CK_ULONG>(plaintext.size()),
                                      reinterpret_cast<CK_BYTE*>(out.data()), &len));
  out.resize(len);
  return out;
}

std::string aes_gcm_decrypt(Session& s, CK_OBJECT_HANDLE key, std::string_view iv, std::string_view aad,
                            std::string_view ciphertext_and_tag) {
  CK_GCM_PARAMS params = gcm_params(iv, aad);
  CK_MECHANISM mech{CKM_AES_GCM, &params, sizeof(params)};
  check("C_DecryptInit", s.fn().C_DecryptInit(s.handle(), &mech, key));
  std::string out(ciphertext_and_tag.size(), '\0');
  CK_ULONG len = static_cast<CK_ULONG>(out.size());
  check("C_Decrypt",
        s.fn().C_Decrypt(s.handle(), reinterpret_cast<CK_BYTE*>(const_cast<char*>(ciphertext_and_tag.data())),
                         static_cast<CK_ULONG>(ciphertext_and_tag.size()), reinterpret_cast<CK_BYTE*>(out.data()),
                         &len));
  out.resize(len);
  return out;
}

std::string hmac_sha256(Session& s, CK_OBJECT_HANDLE key, std::string_view data) {
  CK_MECHANISM mech{CKM_SHA256_HMAC, nullptr, 0};
  check("C_SignInit", s.fn().C_SignInit(s.handle(), &mech, key));
  std::string out(32, '\0');
  CK_ULONG len = static_cast<CK_ULONG>(out.size());
  check("C_Sign", s.fn().C_Sign(s.handle(), reinterpret_cast<CK_BYTE*>(const_cast<char*>(data.data())),
                                static_cast<CK_ULONG>(data.size()), reinterpret_cast<CK_BYTE*>(out.data()), &len));
  out.resize(len);
  return out;
}

}  // namespace orbitnest::keyd::p11
