#include "keyd/pkcs11/objects.h"

#include <stdexcept>

#include "keyd/pkcs11/pkcs11_error.h"

namespace orbitnest::keyd::p11 {
namespace {

// C_FindObjectsInit .. C_FindObjectsFinal as one scope.
class ObjectSearch final {
 public:
  ObjectSearch(Session& s, AttributeList& match) : m_s(s) {
    check("C_FindObjectsInit", s.fn().C_FindObjectsInit(s.handle(), match.data(), match.count()));
  }
  ~ObjectSearch() { m_s.fn().C_FindObjectsFinal(m_s.handle()); }
  ObjectSearch(const ObjectSearch&) = delete;
  ObjectSearch& operator=(const ObjectSearch&) = delete;

  std::vector<CK_OBJECT_HANDLE> all() {
    std::vector<CK_OBJECT_HANDLE> out;
    CK_OBJECT_HANDLE batch[32];
    for (;;) {
      CK_ULONG n = 0;
      check("C_FindObjects", m_s.fn().C_FindObjects(m_s.handle(), batch, 32, &n));
      out.insert(out.end(), batch, batch + n);
      if (n < 32) {
        return out;
      }
    }
  }

 private:
  Session& m_s;
};

}  // namespace

std::vector<CK_OBJECT_HANDLE> find_objects(Session& s, AttributeList& match) {
  ObjectSearch search(s, match);
  return search.all();
}

std::optional<CK_OBJECT_HANDLE> find_by_label(Session& s, CK_OBJECT_CLASS cls, const std::string& label) {
  AttributeList match;
  match.add_ulong(CKA_CLASS, cls).add_bytes(CKA_LABEL, label);
  const std::vector<CK_OBJECT_HANDLE> found = find_objects(s, match);
  if (found.empty()) {
    return std::nullopt;
  }
  if (found.size() > 1) {
    throw std::runtime_error("more than one token object labelled " + label);
  }
  return found.front();
}

std::string get_attribute(Session& s, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE a{type, nullptr, 0};
  check("C_GetAttributeValue", s.fn().C_GetAttributeValue(s.handle(), object, &a, 1));
  std::string value(a.ulValueLen, '\0');
  a.pValue = value.data();
  check("C_GetAttributeValue", s.fn().C_GetAttributeValue(s.handle(), object, &a, 1));
  value.resize(a.ulValueLen);
  return value;
}

bool get_bool_attribute(Session& s, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  const std::string v = get_attribute(s, object, type);
  return v.size() == sizeof(CK_BBOOL) && static_cast<CK_BBOOL>(v[0]) == CK_TRUE;
}

void destroy_object(Session& s, CK_OBJECT_HANDLE object) {
  check("C_DestroyObject", s.fn().C_DestroyObject(s.handle(), object));
}

std::vector<DataObjectRef> find_data_objects(Session& s, const std::string& application) {
  AttributeList match;
  match.add_ulong(CKA_CLASS, CKO_DATA).add_bool(CKA_TOKEN, true).add_bytes(CKA_APPLICATION, application);
  std::vector<DataObjectRef> out;
  for (const CK_OBJECT_HANDLE h : find_objects(s, match)) {
    try {
      out.push_back(DataObjectRef{h, get_attribute(s, h, CKA_LABEL)});
    } catch (const Pkcs11Error& e) {
      if (e.rv() != CKR_OBJECT_HANDLE_INVALID) {
        throw;
      }
      // Destroyed by another process between the search and the read.
    }
  }
  return out;
}

CK_OBJECT_HANDLE create_data_object(Session& s, const std::string& application, const std::string& label,
                                    const std::string& value) {
  AttributeList t;
  t.add_ulong(CKA_CLASS, CKO_DATA)
      .add_bool(CKA_TOKEN, true)
      .add_bool(CKA_PRIVATE, true)
      .add_bool(CKA_MODIFIABLE, false)
      .add_bytes(CKA_APPLICATION, application)
      .add_bytes(CKA_LABEL, label)
      .add_bytes(CKA_VALUE, value);
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  check("C_CreateObject", s.fn().C_CreateObject(s.handle(), t.data(), t.count(), &h));
  return h;
}

std::vector<std::string> labels_with_prefix(Session& s, CK_OBJECT_CLASS cls, const std::string& prefix) {
  AttributeList match;
  match.add_ulong(CKA_CLASS, cls);
  std::vector<std::string> out;
  for (const CK_OBJECT_HANDLE h : find_objects(s, match)) {
    std::string label = get_attribute(s, h, CKA_LABEL);
    if (label.rfind(prefix, 0) == 0) {
      out.push_back(std::move(label));
    }
  }
  return out;
}

}  // namespace orbitnest::keyd::p11
