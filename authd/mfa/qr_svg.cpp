#include "authd/mfa/qr_svg.h"

#include <qrencode.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace orbitnest::authd {
namespace {

struct QrCodeDeleter {
  void operator()(QRcode* q) const { QRcode_free(q); }
};

constexpr int kQuietZone = 4;  // modules of white around the code (ISO/IEC 18004)

}  // namespace

std::string qr_svg(std::string_view text) {
  const std::string input(text);
  // Level M: about 15 % of the code may be damaged; version chosen to fit.
  const std::unique_ptr<QRcode, QrCodeDeleter> code(QRcode_encodeString8bit(input.c_str(), 0, QR_ECLEVEL_M));
  if (!code) {
    throw std::runtime_error("the text does not fit a QR code");
  }
  const int width = code->width;
  const int size = width + 2 * kQuietZone;
  std::string path;
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width; ++x) {
      if ((code->data[y * width + x] & 1) != 0) {  // bit 0: a dark module
        // Appended piece by piece: "M" + std::to_string(...) trips GCC 12's
        // -Wrestrict false positive at -O3 (a Release build under -Werror).
        path += 'M';
        path += std::to_string(x + kQuietZone);
        path += ' ';
        path += std::to_string(y + kQuietZone);
        path += "h1v1h-1z";
      }
    }
  }
  const std::string dim = std::to_string(size);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + dim + " " + dim +
         "\" shape-rendering=\"crispEdges\"><rect width=\"" + dim + "\" height=\"" + dim +
         "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path + "\"/></svg>";
}

}  // namespace orbitnest::authd
