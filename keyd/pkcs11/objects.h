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
// Labels of every object of `cls` whose label starts with `prefix`.
std::vector<std::string> labels_with_prefix(Session& s, CK_OBJECT_CLASS cls, const std::string& prefix);

}  // namespace orbitnest::keyd::p11
