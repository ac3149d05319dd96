#pragma once
// POST /projects/{ref}/rest/v1/rpc/{function}: calls a function of an
// exposed schema under the caller's JWT, the way PostgREST does it. In one
// transaction: SET LOCAL ROLE to the token's role (anon without a token,
// service_role with the secret key), set_config('request.jwt.claims', ...,
// true), then the call, with the function and argument names checked as
// identifiers and every value passed as a parameter, never spliced in.
// Postgres errors become clean HTTP errors without SQL details.
#include "authd/flows/auth_api.h"

namespace orbitnest::authd {

Response rpc(AuthServices& s, const ProjectCall& c);

}  // namespace orbitnest::authd
