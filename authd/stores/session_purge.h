#pragma once
// What the housekeeping loop deletes, in bounded batches (each statement
// at most kPurgeBatch rows, so no purge holds locks for long or bloats one
// transaction): sessions past their realm's timebox or inactivity timeout
// — per project from its settings, for admins from authd.yaml — with their
// refresh tokens (cascade), and rotated refresh tokens older than the
// history kept for replay detection.
#include <pqxx/pqxx>

#include "authd/realms/realm.h"

namespace orbitnest::authd {

inline constexpr int kPurgeBatch = 500;

struct PurgeCounts {
  int sessions = 0;
  int refresh_tokens = 0;
};

// One batch of each; call again while anything was deleted.
PurgeCounts purge_expired_batch(pqxx::connection& conn, const Realm& admin_realm, int refresh_token_history_seconds);

}  // namespace orbitnest::authd
