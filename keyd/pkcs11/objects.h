#pragma once
// Finding, reading and destroying token objects.
#include <p11-kit/pkcs11.h>

#include <optional>
#include <string>
#include <vector>

#include "keyd/pkcs11/attributes.h"
#include "keyd/pkcs11/session.h"

namespace orbitnest::keyd::p11 {

std::vector<CK_OBJECT_HANDLE> find_objects(Session& s, AttributeList& match);
// The one object of `cls` with `label`; nullopt if none; throws if several.
std::optional<CK_OBJECT_HANDLE> find_by_label(Session& s, CK_OBJECT_CLASS cls, const std::string& label);
std::string get_attribute(Session& s, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);
bool get_bool_attribute(Session& s, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);
void destroy_object(Session& s, CK_OBJECT_HANDLE object);
// Token data objects (CKO_DATA) of one application: keyd keeps its
// keyring state in them, where every keyd sharing the token sees it.
struct DataObjectRef {
  CK_OBJECT_HANDLE handle;
  std::string label;
};
// Every data object whose CKA_APPLICATION is `application` (labels only;
// read CKA_VALUE with get_attribute). One another process destroys while
// this runs is left out.
std::vector<DataObjectRef> find_data_objects(Session& s, const std::string& application);
// A private, unmodifiable token data object.
CK_OBJECT_HANDLE create_data_object(Session& s, const std::string& application, const std::string& label,
                                    const std::string& value);
// Labels of every object of `cls` whose label starts with `prefix`.
std::vector<std::string> labels_with_prefix(Session& s, CK_OBJECT_CLASS cls, const std::string& prefix);

}  // namespace orbitnest::keyd::p11
