#include "authd/webauthn/aaguid_names.h"

#include <array>
#include <utility>

namespace orbitnest::authd::webauthn {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 18> kNames{{
    {"ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4", "Google Password Manager"},
    {"adce0002-35bc-c60a-648b-0b25f1f05503", "Chrome on Mac"},
    {"fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "iCloud Keychain"},
    {"dd4ec289-e01d-41c9-bb89-70fa845d4bf2", "iCloud Keychain (Managed)"},
    {"08987058-cadc-4b81-b6e1-30de50dcbe96", "Windows Hello"},
    {"9ddd1817-af5a-4672-a2b9-3e3dd95000a9", "Windows Hello"},
    {"6028b017-b1d4-4c02-b4b3-afcdafc96bb2", "Windows Hello"},
    {"771b48fd-d3d4-4f74-9232-fc157ab0507a", "Edge on Mac"},
    {"bada5566-a7aa-401f-bd96-45619a55120d", "1Password"},
    {"d548826e-79b4-db40-a3d8-11116f7e8349", "Bitwarden"},
    {"531126d6-e717-415c-9320-3d9aa6981239", "Dashlane"},
    {"b84e4048-15dc-4dd0-8640-f4f60813c8af", "NordPass"},
    {"cb69481e-8ff7-4039-93ec-0a2729a154a8", "YubiKey 5 Series"},
    {"ee882879-721c-4913-9775-3dfcce97072a", "YubiKey 5 Series"},
    {"fa2b99dc-9e39-4257-8f92-4a30d23c4118", "YubiKey 5 Series with NFC"},
    {"2fc0579f-8113-47ea-b116-bb5a8db9202a", "YubiKey 5 Series with NFC"},
    {"c5ef55ff-ad9a-4b9f-b580-adebafe026d0", "YubiKey 5Ci"},
    {"6d44ba9b-f6ec-2e49-b930-0c8fe920cb73", "Security Key by Yubico with NFC"},
}};

}  // namespace

std::string aaguid_text(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out += '-';
    }
    const auto b = static_cast<unsigned char>(bytes[i]);
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::optional<std::string> authenticator_name(std::string_view aaguid_bytes) {
  if (aaguid_bytes.size() != 16) {
    return std::nullopt;
  }
  const std::string text = aaguid_text(aaguid_bytes);
  for (const auto& [aaguid, name] : kNames) {
    if (aaguid == text) {
      return std::string(name);
    }
  }
  return std::nullopt;
}

}  // namespace orbitnest::authd::webauthn
