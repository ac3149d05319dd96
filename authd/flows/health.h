#pragma once
// GET /auth/v1/health: whether keyd and Postgres answer, and the version.
// 200 when both are ok, 503 otherwise. Only status words leave the
// process; the reasons go to the log.
#include "authd/db/pg_pool.h"
#include "authd/http/http_types.h"
#include "authd/keyd/keyd_link.h"

namespace orbitnest::authd {

enum class PostgresHealth { ok, down };

PostgresHealth check_postgres(PgPool& pool);
Response health_response(KeydHealth keyd, PostgresHealth postgres);

}  // namespace orbitnest::authd
