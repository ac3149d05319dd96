#pragma once
// Building URLs that carry values back to a browser (email links, social
// sign-in redirects) or to a provider (its authorization URL).
#include <string>
#include <string_view>

namespace orbitnest::authd {

// `url` with `query` ("a=b&c=d") added to its query, before any fragment.
std::string url_with_query(std::string_view url, std::string_view query);
// RFC 3986 percent-encoding of a query value (all but A-Z a-z 0-9 - . _ ~).
std::string query_escape(std::string_view value);

}  // namespace orbitnest::authd
