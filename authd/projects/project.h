#pragma once
// A project: one app's user system (its realm) plus what only projects
// have — a name and API keys.
#include <string>

#include "authd/realms/realm.h"

namespace orbitnest::authd {

struct Project : Realm {
  std::string name;
  std::string publishable_key;
};

}  // namespace orbitnest::authd
