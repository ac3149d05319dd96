#include "authd/projects/project_store.h"

#include <botan/mem_ops.h>

#include <stdexcept>

#include "authd/security/random.h"

namespace orbitnest::authd {
namespace {

constexpr auto kCacheTtl = std::chrono::seconds(5);

Project from_row(const pqxx::row& r) {
  Project p;
  p.ref = r["ref"].as<std::string>();
  p.name = r["name"].as<std::string>();
  p.publishable_key = r["publishable_key"].as<std::string>();
  p.issuer = r["issuer"].as<std::string>();
  p.keyring = r["keyring"].as<std::string>();
  p.audience = kProjectAudience;
  p.role = kProjectUserRole;
  p.settings = ProjectSettings::from_json(boost::json::parse(r["settings"].as<std::string>()).as_object());
  return p;
}

}  // namespace

bool is_project_ref(std::string_view ref) {
  const auto allowed = [](char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && !first);
  };
  if (ref.empty() || ref.size() > 63) {
    return false;
  }
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (!allowed(ref[i], i == 0)) {
      return false;
    }
  }
  return true;
}

std::string ProjectStore::secret_mac(const std::string& secret, int version, int* used_version) {
  return m_keyd.mac("api_key", secret, version, used_version);
}

std::shared_ptr<const Project> ProjectStore::find(const std::string& ref) {
  if (!is_project_ref(ref)) {
    return nullptr;
  }
  const auto now = std::chrono::steady_clock::now();
  {
    const std::lock_guard lock(m_mutex);
    const auto it = m_cache.find(ref);
    if (it != m_cache.end() && now - it->second.at < kCacheTtl) {
      return it->second.project;
    }
  }
  PgPool::Lease conn = m_pg.lease();
  pqxx::nontransaction tx(*conn);
  const pqxx::result r = tx.exec_params(
      "SELECT ref, name, publishable_key, issuer, keyring, settings::text AS settings FROM auth.projects WHERE ref = $1",
      ref);
  if (r.empty()) {
    // Not cached: refs anyone can invent must not fill memory, and a
    // project created a moment later is found at once.
    return nullptr;
  }
  std::shared_ptr<const Project> p = std::make_shared<const Project>(from_row(r[0]));
  const std::lock_guard lock(m_mutex);
  // Expired entries go (a deleted project's too); the rest are live projects.
  std::erase_if(m_cache, [now](const auto& entry) { return now - entry.second.at >= kCacheTtl; });
  m_cache[ref] = Cached{p, now};
  return p;
}

std::vector<Project> ProjectStore::list() {
  PgPool::Lease conn = m_pg.lease();
  pqxx::nontransaction tx(*conn);
  std::vector<Project> out;
  for (const pqxx::row& r : tx.exec(
           "SELECT ref, name, publishable_key, issuer, keyring, settings::text AS settings FROM auth.projects ORDER BY ref")) {
    out.push_back(from_row(r));
  }
  return out;
}

CreatedProject ProjectStore::create(const std::string& ref, const std::string& name, const ProjectSettings& settings) {
  if (!is_project_ref(ref)) {
    // Before keyd makes a keyring that the database would then refuse.
    throw std::invalid_argument("a project ref is 1 to 63 characters of a-z, 0-9 and '-', not starting with '-'");
  }
  const keyd::EnsureKeyringAnswer ring = m_keyd.client().ensure_keyring(ref);
  CreatedProject out;
  out.project.ref = ref;
  out.project.name = name;
  out.project.keyring = ring.keyring;
  out.project.issuer = ring.issuer;
  out.project.audience = kProjectAudience;
  out.project.role = kProjectUserRole;
  out.project.publishable_key = "sb_publishable_" + random_token(18);
  out.project.settings = settings;
  out.secret_key = "sb_secret_" + random_token(24);
  int version = 0;
  const std::string mac = secret_mac(out.secret_key, 0, &version);
  PgPool::Lease conn = m_pg.lease();
  pqxx::work tx(*conn);
  tx.exec_params(
      "INSERT INTO auth.projects (ref, name, publishable_key, secret_key_mac, secret_key_mac_ver, issuer, keyring, "
      "settings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
      ref, name, out.project.publishable_key, pqxx::binarystring(mac), version, out.project.issuer,
      out.project.keyring, boost::json::serialize(settings.to_json()));
  tx.commit();
  return out;
}

void ProjectStore::update_settings(const std::string& ref, const ProjectSettings& settings) {
  PgPool::Lease conn = m_pg.lease();
  pqxx::work tx(*conn);
  const pqxx::result r = tx.exec_params("UPDATE auth.projects SET settings = $2::jsonb WHERE ref = $1", ref,
                                        boost::json::serialize(settings.to_json()));
  if (r.affected_rows() != 1) {
    throw std::invalid_argument("no project " + ref);
  }
  tx.commit();
  const std::lock_guard lock(m_mutex);
  m_cache.erase(ref);
}

ApiKeyKind ProjectStore::classify_api_key(const Project& project, const std::string& key) {
  if (key.empty()) {
    return ApiKeyKind::none;
  }
  if (key.size() == project.publishable_key.size() &&
      Botan::constant_time_compare(reinterpret_cast<const std::uint8_t*>(key.data()),
                                   reinterpret_cast<const std::uint8_t*>(project.publishable_key.data()), key.size())) {
    return ApiKeyKind::publishable;
  }
  if (key.rfind("sb_secret_", 0) != 0) {
    return ApiKeyKind::none;
  }
  PgPool::Lease conn = m_pg.lease();
  pqxx::nontransaction tx(*conn);
  const pqxx::row r = tx.exec_params1(
      "SELECT secret_key_mac, secret_key_mac_ver FROM auth.projects WHERE ref = $1", project.ref);
  const pqxx::binarystring stored(r[0]);
  int version = 0;
  const std::string mac = secret_mac(key, r[1].as<int>(), &version);
  return mac.size() == stored.size() &&
                 Botan::constant_time_compare(reinterpret_cast<const std::uint8_t*>(mac.data()), stored.data(),
                                              mac.size())
             ? ApiKeyKind::secret
             : ApiKeyKind::none;
}

}  // namespace orbitnest::authd
