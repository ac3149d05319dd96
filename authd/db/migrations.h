#pragma once
// The SQL migrations of policy/, compiled into authd, and the runner that
// applies the missing ones in order, in one transaction, under an advisory
// lock (several authd nodes may start at once). A database that has a
// migration this authd does not know is refused: it is newer than us.
#include <pqxx/pqxx>

#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace orbitnest::authd {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

std::span<const Migration> embedded_migrations();

class MigrationError final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MigrationReport {
  int from_version = 0;
  int to_version = 0;
  std::vector<int> applied;
};

// Applies the missing migrations up to `up_to` (all when 0): operators may
// upgrade in steps, and tests build a database at every earlier version.
MigrationReport apply_migrations(pqxx::connection& conn, int up_to = 0);

}  // namespace orbitnest::authd
