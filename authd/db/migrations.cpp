#include "authd/db/migrations.h"

#include <string>

namespace orbitnest::authd {
namespace {

// Any constant shared by every authd: "orbitnest migrations".
constexpr long long kAdvisoryLock = 0x6f72626e6d6967;

}  // namespace

MigrationReport apply_migrations(pqxx::connection& conn, int up_to) {
  pqxx::work tx(conn);
  tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kAdvisoryLock) + ")");
  MigrationReport report;
  const bool has_table =
      tx.exec1("SELECT to_regclass('auth.schema_migrations') IS NOT NULL")[0].as<bool>();
  if (has_table) {
    report.from_version = tx.exec1("SELECT coalesce(max(version), 0) FROM auth.schema_migrations")[0].as<int>();
  }
  const std::span<const Migration> known = embedded_migrations();
  const int newest_known = known.empty() ? 0 : known.back().version;
  const int target = up_to > 0 && up_to < newest_known ? up_to : newest_known;
  if (report.from_version > newest_known) {
    throw MigrationError("the database schema is at version " + std::to_string(report.from_version) +
                         ", newer than this authd knows (" + std::to_string(newest_known) +
                         "): upgrade authd or restore a matching database");
  }
  for (const Migration& m : known) {
    if (m.version <= report.from_version || m.version > target) {
      continue;
    }
    tx.exec(std::string(m.sql));
    tx.exec_params("INSERT INTO auth.schema_migrations (version, name) VALUES ($1, $2)", m.version,
                   std::string(m.name));
    report.applied.push_back(m.version);
  }
  report.to_version = target > report.from_version ? target : report.from_version;
  tx.commit();
  return report;
}

}  // namespace orbitnest::authd
