#include "authd/http/tls_context.h"

#include <stdexcept>
#include <string>

namespace orbitnest::authd {

namespace ssl = boost::asio::ssl;

ssl::context make_tls_context(const config::AuthdTlsConfig& tls) {
  const std::string key_problem = config::tls_key_file_problem(tls.key_file);
  if (!key_problem.empty()) {
    throw std::runtime_error(tls.key_file + ": " + key_problem);
  }
  ssl::context ctx(ssl::context::tls_server);
  // OpenSSL frees a connection's record buffers while it is idle (~34 KB).
  ::SSL_CTX_set_mode(ctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
  long options = ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                 ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use;
  if (tls.min_version == "1.3") {
    options |= ssl::context::no_tlsv1_2;
  }
  ctx.set_options(options);
  ::SSL_CTX_set_min_proto_version(ctx.native_handle(), tls.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  // TLS 1.2 suites: forward secrecy and AEAD only.
  ::SSL_CTX_set_cipher_list(ctx.native_handle(),
                            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  ctx.use_certificate_chain_file(tls.cert_file);
  ctx.use_private_key_file(tls.key_file, ssl::context::pem);
  return ctx;
}

}  // namespace orbitnest::authd
