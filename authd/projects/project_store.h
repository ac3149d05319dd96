#pragma once
// Projects in Postgres, with a short in-memory cache (every API request
// resolves its project). Only projects that exist are cached, so the
// cache holds at most one entry per project; a ref that cannot exist is
// refused before any lookup. Creating one asks keyd for the project's
// keyring and keeps the secret key only as a keyd MAC.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authd/db/pg_pool.h"
#include "authd/keyd/keyd_link.h"
#include "authd/projects/project.h"

namespace orbitnest::authd {

enum class ApiKeyKind { none, publishable, secret };

// The ref format of auth.projects' CHECK: ^[a-z0-9][a-z0-9-]{0,62}$.
bool is_project_ref(std::string_view ref);

struct CreatedProject {
  Project project;
  std::string secret_key;  // shown once, never stored in clear
};

class ProjectStore final {
 public:
  ProjectStore(PgPool& pg, KeydLink& keyd) : m_pg(pg), m_keyd(keyd) {}

  // nullptr for an unknown or malformed ref (the latter without a query).
  std::shared_ptr<const Project> find(const std::string& ref);
  std::vector<Project> list();
  CreatedProject create(const std::string& ref, const std::string& name, const ProjectSettings& settings);
  void update_settings(const std::string& ref, const ProjectSettings& settings);
  ApiKeyKind classify_api_key(const Project& project, const std::string& key);

 private:
  struct Cached {
    std::shared_ptr<const Project> project;
    std::chrono::steady_clock::time_point at;
  };
  std::string secret_mac(const std::string& secret, int version, int* used_version);

  PgPool& m_pg;
  KeydLink& m_keyd;
  std::mutex m_mutex;
  std::map<std::string, Cached> m_cache;
};

}  // namespace orbitnest::authd
