#include "net/tls_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace kiln::net {

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

Error openssl_error(const char* what) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  return make_error(ErrorCode::internal, "{}: {}", what, reason != nullptr ? reason : "OpenSSL failed");
}

Result<Key> new_key() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) return openssl_error("cannot generate an EC P-256 key");
  return key;
}

Status add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return openssl_error("cannot build a certificate extension");
  const int added = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (added != 1) return openssl_error("cannot add a certificate extension");
  return {};
}

// Signed by `issuer_key` as `issuer` (null: self-signed).
Result<Cert> new_cert(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key, int days,
                      const std::vector<std::pair<int, const char*>>& extensions) {
  Cert cert(X509_new());
  if (!cert) return openssl_error("cannot make a certificate");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return openssl_error("no random serial");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // a clock a little behind still accepts it
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Kiln lab"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  for (const auto& [nid, value] : extensions) KILN_TRY(add_extension(cert.get(), signer, nid, value));
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    return openssl_error("cannot sign a certificate");
  }
  return cert;
}

// Written whole with mode 0600, whatever the umask, replacing an older file.
Status write_private(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorCode::unavailable, "cannot write {}: {}", tmp, std::strerror(errno));
  bool ok = ::fchmod(fd, 0600) == 0;
  std::size_t done = 0;
  while (ok && done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return make_error(ErrorCode::unavailable, "cannot write {}: {}", path, why);
  }
  return {};
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

Status write_key(const std::string& path, EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return openssl_error("cannot encode a private key");
  }
  return write_private(path, bio_text(bio.get()));
}

Status write_cert(const std::string& path, X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return openssl_error("cannot encode a certificate");
  return write_private(path, bio_text(bio.get()));
}

}  // namespace

Result<TlsFiles> write_lab_tls(const std::string& dir, int days) {
  if (days < 1) return make_error(ErrorCode::invalid_argument, "certificates must hold at least a day, not {}", days);
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_error(ErrorCode::unavailable, "cannot create {}: {}", dir, ec.message());
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  }
  const TlsFiles files = lab_tls_paths(dir);

  KILN_TRY_ASSIGN(Key ca_key, new_key());
  KILN_TRY_ASSIGN(Cert ca, new_cert(ca_key.get(), "Kiln lab CA", nullptr, nullptr, days,
                                    {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                                     {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                     {NID_subject_key_identifier, "hash"}}));
  KILN_TRY_ASSIGN(Key server_key, new_key());
  KILN_TRY_ASSIGN(Cert server, new_cert(server_key.get(), "kilnd", ca.get(), ca_key.get(), days,
                                        {{NID_basic_constraints, "critical,CA:FALSE"},
                                         {NID_key_usage, "critical,digitalSignature"},
                                         {NID_ext_key_usage, "serverAuth"},
                                         {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"},
                                         {NID_authority_key_identifier, "keyid"}}));
  KILN_TRY_ASSIGN(Key client_key, new_key());
  KILN_TRY_ASSIGN(Cert client, new_cert(client_key.get(), "kiln lab client", ca.get(), ca_key.get(), days,
                                        {{NID_basic_constraints, "critical,CA:FALSE"},
                                         {NID_key_usage, "critical,digitalSignature"},
                                         {NID_ext_key_usage, "clientAuth"},
                                         {NID_authority_key_identifier, "keyid"}}));
  KILN_TRY(write_cert(files.ca_cert, ca.get()));
  KILN_TRY(write_key(files.ca_key, ca_key.get()));
  KILN_TRY(write_cert(files.server_cert, server.get()));
  KILN_TRY(write_key(files.server_key, server_key.get()));
  KILN_TRY(write_cert(files.client_cert, client.get()));
  KILN_TRY(write_key(files.client_key, client_key.get()));
  return files;
}

}  // namespace kiln::net
