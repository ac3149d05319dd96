#pragma once
// Typed builder for PKCS#11 attribute templates. It owns the values, so the
// CK_ATTRIBUTE pointers stay valid for as long as the builder lives.
#include <p11-kit/pkcs11.h>

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace orbitnest::keyd::p11 {

class AttributeList final {
 public:
  AttributeList() = default;
  // The attributes point into this object: copying would leave them dangling.
  AttributeList(const AttributeList&) = delete;
  AttributeList& operator=(const AttributeList&) = delete;

  AttributeList& add_bool(CK_ATTRIBUTE_TYPE type, bool value);
  AttributeList& add_ulong(CK_ATTRIBUTE_TYPE type, CK_ULONG value);
  AttributeList& add_bytes(CK_ATTRIBUTE_TYPE type, std::string_view bytes);

  CK_ATTRIBUTE* data() { return m_attrs.data(); }
  CK_ULONG count() const { return static_cast<CK_ULONG>(m_attrs.size()); }

 private:
  std::deque<std::string> m_storage;  // deque: growth never moves elements
  std::vector<CK_ATTRIBUTE> m_attrs;
};

}  // namespace orbitnest::keyd::p11
