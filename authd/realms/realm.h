#pragma once
// A realm is one user system: a project's users ("project:<ref>") or the
// people who run the appliance ("admin"). It names everything that keeps
// two user systems apart — keyd keyring, issuer, audience, settings and
// the tables its users live in — so a flow is written once, takes a realm,
// and cannot mix one system's users, tokens or rows with another's.
#include <string>
#include <string_view>

#include "authd/realms/realm_settings.h"

namespace orbitnest::authd {

enum class RealmKind { project, admin };

// The tables of one user system. Admins have their own (policy 0008), so
// isolation holds in SQL as well: no admin row is ever a project user's.
// `realm_column` is the users table's column naming the realm (its value
// is Realm::ref); stores put it in every WHERE.
struct RealmTables {
  std::string_view users;
  std::string_view identities;
  std::string_view sessions;
  std::string_view refresh_tokens;
  std::string_view amr_claims;
  std::string_view realm_column;
  std::string_view factors;
  std::string_view challenges;
  std::string_view recovery_codes;
  std::string_view sign_in_challenges;
  std::string_view passkeys;
  std::string_view webauthn_challenges;
};

// A RealmTables name as SQL text, for the stores' statements (the names
// are the constants below, never input).
inline std::string sql_name(std::string_view name) { return std::string(name); }

inline constexpr RealmTables kProjectTables{
    .users = "auth.users",
    .identities = "auth.identities",
    .sessions = "auth.sessions",
    .refresh_tokens = "auth.refresh_tokens",
    .amr_claims = "auth.mfa_amr_claims",
    .realm_column = "project_ref",
    .factors = "auth.mfa_factors",
    .challenges = "auth.mfa_challenges",
    .recovery_codes = "auth.mfa_recovery_codes",
    .sign_in_challenges = "auth.mfa_sign_in_challenges",
    .passkeys = "auth.passkeys",
    .webauthn_challenges = "auth.webauthn_challenges",
};
inline constexpr RealmTables kAdminTables{
    .users = "auth.admin_users",
    .identities = "auth.admin_identities",
    .sessions = "auth.admin_sessions",
    .refresh_tokens = "auth.admin_refresh_tokens",
    .amr_claims = "auth.admin_mfa_amr_claims",
    .realm_column = "realm",
    .factors = "auth.admin_mfa_factors",
    .challenges = "auth.admin_mfa_challenges",
    .recovery_codes = "auth.admin_mfa_recovery_codes",
    .sign_in_challenges = "auth.admin_mfa_sign_in_challenges",
    .passkeys = "auth.admin_passkeys",
    .webauthn_challenges = "auth.admin_webauthn_challenges",
};

// A project user's access token: GoTrue's aud and role, which RLS reads.
inline constexpr const char* kProjectAudience = "authenticated";
inline constexpr const char* kProjectUserRole = "authenticated";

// What the admin realm's rows carry in their realm column.
inline constexpr std::string_view kAdminRealmRef = "admin";

struct Realm {
  RealmKind kind = RealmKind::project;
  std::string ref;       // project ref, or "admin"
  std::string issuer;    // iss of its tokens
  std::string keyring;   // keyd keyring that signs them
  std::string audience;  // aud of its access tokens
  std::string role;      // role claim of its access tokens
  ProjectSettings settings;

  const RealmTables& tables() const { return kind == RealmKind::admin ? kAdminTables : kProjectTables; }
  // "project:<ref>" or "admin": for logs and metrics.
  std::string name() const { return kind == RealmKind::admin ? std::string(kAdminRealmRef) : "project:" + ref; }
  // Prefix of this realm's rate-limit keys. A project ref cannot hold "@",
  // so no project named "admin" shares the admins' budgets.
  std::string limit_scope() const { return kind == RealmKind::admin ? "@admin" : ref; }
};

}  // namespace orbitnest::authd
