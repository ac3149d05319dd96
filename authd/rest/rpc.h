#pragma once
// POST /projects/{ref}/rest/v1/rpc/{function}: calls a function of one of
// the project's exposed schemas under the caller's JWT, the way PostgREST
// does it. The token is checked on authd's connection; the call runs on the
// RPC pool's (RpcPool), in one transaction: SET LOCAL ROLE to the token's
// role (anon without a token, service_role with the secret key), a
// statement_timeout, set_config('request.jwt.claims', ..., true) with the
// project's ref in "ref", then the call, with the function and argument
// names checked as identifiers and every value passed as a parameter,
// never spliced in. Postgres errors become clean HTTP errors without SQL
// details.
#include "authd/flows/auth_api.h"

namespace orbitnest::authd {

Response rpc(AuthServices& s, const RealmCall& c);

}  // namespace orbitnest::authd
