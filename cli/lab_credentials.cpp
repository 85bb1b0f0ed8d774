#include "cli/lab_credentials.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <random>

#include <fmt/format.h>

namespace kiln::cli {
namespace fs = std::filesystem;

namespace {

// Created 0600 (never readable by others, not even for a moment), whole or not at all.
Status write_private(const fs::path& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorCode::io, "cannot create {}", path.string());
  const ssize_t wrote = ::write(fd, text.data(), text.size());
  const bool closed = ::close(fd) == 0;
  if (wrote != static_cast<ssize_t>(text.size()) || !closed) {
    return make_error(ErrorCode::io, "cannot write {}", path.string());
  }
  return {};
}

}  // namespace

std::string random_secret() {
  std::random_device entropy;
  std::string secret;
  for (int i = 0; i < 8; ++i) secret += fmt::format("{:08x}", entropy());
  return secret;
}

Result<LabCredentials> write_lab_credentials(const fs::path& dir, const std::vector<std::string>& racks) {
  LabCredentials out;
  std::string yaml = "# kiln lab: one credential per rack's agent, and kiln lab's own admin client\ncredentials:\n";
  for (const std::string& rack : racks) {
    const std::string secret = random_secret();
    // Rack ids are checked by the lab loader; quoted all the same.
    yaml += fmt::format("  - {{name: \"rack-{}\", rack: \"{}\", secret: \"{}\"}}\n", rack, rack, secret);
    const fs::path token = dir / ("rack-" + rack + ".token");
    KILN_TRY(write_private(token, secret + "\n"));
    out.rack_tokens[rack] = token.string();
  }
  out.admin_secret = random_secret();
  yaml += fmt::format("  - {{name: \"kiln-lab\", role: admin, secret: \"{}\"}}\n", out.admin_secret);
  const fs::path admin = dir / "admin.token";
  KILN_TRY(write_private(admin, out.admin_secret + "\n"));
  out.admin_token = admin.string();
  const fs::path credentials = dir / "credentials.yaml";
  KILN_TRY(write_private(credentials, yaml));
  out.credentials_file = credentials.string();
  return out;
}

}  // namespace kiln::cli
