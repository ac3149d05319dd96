#include "authd/flows/email_address.h"

#include <idn2.h>

#include <algorithm>
#include <memory>
#include <string_view>

#include "authd/api/api_error.h"

namespace orbitnest::authd {
namespace {

constexpr std::size_t kMaxRawBytes = 320;
constexpr std::size_t kMaxLocalBytes = 64;
constexpr std::size_t kMaxAddressBytes = 254;

[[noreturn]] void invalid(const std::string& why) {
  throw ApiError(400, "validation_failed", "Unable to validate email address: " + why);
}

bool is_atext(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+/=?^_`{|}~-").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string canonical_local(std::string_view local) {
  if (local.empty() || local.size() > kMaxLocalBytes) {
    invalid("invalid format");
  }
  if (std::any_of(local.begin(), local.end(), [](unsigned char c) { return c >= 0x80; })) {
    invalid("non-ASCII characters before the @ are not accepted");
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    invalid("invalid format");
  }
  std::string out;
  for (const unsigned char c : local) {
    if (c != '.' && !is_atext(c)) {
      invalid("invalid format");
    }
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

struct IdnFree {
  void operator()(char* p) const { idn2_free(p); }
};

bool is_ldh_label(std::string_view label) {
  return !label.empty() && label.size() <= 63 && label.front() != '-' && label.back() != '-' &&
         std::all_of(label.begin(), label.end(),
                     [](unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::string canonical_domain(const std::string& domain) {
  if (domain.empty()) {
    invalid("invalid format");
  }
  // ASCII must already be letters, digits, hyphens and dots: libidn2's STD3
  // mapping would silently drop a space or an underscore, turning
  // "exa mple.com" into another spelling of example.com.
  if (std::any_of(domain.begin(), domain.end(), [](unsigned char c) {
        return c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                             c == '.');
      })) {
    invalid("the domain is not a valid (internationalized) domain name");
  }
  char* raw_out = nullptr;
  // UTS #46 non-transitional mapping (NFC, case fold, width), STD3 rules
  // (letters, digits, hyphens), then IDNA2008 A-labels.
  const int rc = idn2_to_ascii_8z(domain.c_str(), &raw_out,
                                  IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL | IDN2_USE_STD3_ASCII_RULES);
  const std::unique_ptr<char, IdnFree> out(raw_out);
  if (rc != IDN2_OK || out == nullptr) {
    invalid("the domain is not a valid (internationalized) domain name");
  }
  std::string ascii(out.get());
  std::transform(ascii.begin(), ascii.end(), ascii.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
  const std::size_t last_dot = ascii.rfind('.');
  if (last_dot == std::string::npos || ascii.size() > 253) {
    invalid("the domain needs a dot, as in example.com");
  }
  std::size_t start = 0;
  while (start <= ascii.size()) {
    const std::size_t dot = std::min(ascii.find('.', start), ascii.size());
    if (!is_ldh_label(std::string_view(ascii).substr(start, dot - start))) {
      invalid("the domain is not a valid (internationalized) domain name");
    }
    start = dot + 1;
  }
  const std::string_view tld = std::string_view(ascii).substr(last_dot + 1);
  if (std::all_of(tld.begin(), tld.end(), [](unsigned char c) { return c >= '0' && c <= '9'; })) {
    invalid("the domain must be a name, not an address");
  }
  return ascii;
}

}  // namespace

std::string canonical_email(const std::string& raw) {
  std::string_view e(raw);
  while (!e.empty() && (e.front() == ' ' || e.front() == '\t')) {
    e.remove_prefix(1);
  }
  while (!e.empty() && (e.back() == ' ' || e.back() == '\t')) {
    e.remove_suffix(1);
  }
  if (e.size() > kMaxRawBytes || e.find('\0') != std::string_view::npos) {
    invalid("invalid format");
  }
  const std::size_t at = e.find('@');
  if (at == std::string_view::npos || at != e.rfind('@')) {
    invalid("invalid format");
  }
  std::string out = canonical_local(e.substr(0, at));
  out += '@';
  out += canonical_domain(std::string(e.substr(at + 1)));
  if (out.size() > kMaxAddressBytes) {
    invalid("longer than 254 characters");
  }
  return out;
}

}  // namespace orbitnest::authd
