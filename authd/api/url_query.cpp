#include "authd/api/url_query.h"

#include <cctype>

namespace orbitnest::authd {

std::string url_with_query(std::string_view url, std::string_view query) {
  const std::size_t hash = url.find('#');
  std::string out(url.substr(0, hash));
  out += out.find('?') == std::string::npos ? '?' : '&';
  out += query;
  if (hash != std::string_view::npos) {
    out += url.substr(hash);
  }
  return out;
}

std::string query_escape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char ch : value) {
    if (std::isalnum(ch) != 0 || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out += {'%', kHex[ch >> 4], kHex[ch & 0x0f]};
    }
  }
  return out;
}

}  // namespace orbitnest::authd
