#include "keyd/pkcs11/attributes.h"

#include <cstring>

namespace orbitnest::keyd::p11 {

AttributeList& AttributeList::add_bool(CK_ATTRIBUTE_TYPE type, bool value) {
  const CK_BBOOL b = value ? CK_TRUE : CK_FALSE;
  return add_bytes(type, std::string_view(reinterpret_cast<const char*>(&b), sizeof(b)));
}

AttributeList& AttributeList::add_ulong(CK_ATTRIBUTE_TYPE type, CK_ULONG value) {
  return add_bytes(type, std::string_view(reinterpret_cast<const char*>(&value), sizeof(value)));
}

AttributeList& AttributeList::add_bytes(CK_ATTRIBUTE_TYPE type, std::string_view bytes) {
  std::string& stored = m_storage.emplace_back(bytes);
  CK_ATTRIBUTE a{};
  a.type = type;
  a.pValue = stored.data();
  a.ulValueLen = static_cast<CK_ULONG>(stored.size());
  m_attrs.push_back(a);
  return *this;
}

}  // namespace orbitnest::keyd::p11
