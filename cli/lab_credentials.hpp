#pragma once
// What `kiln lab` hands its children so that it needs no setup: one
// credential per rack's agent and one admin credential for itself (and the
// dashboard), each with 256 random bits, written to a private directory as
// kilnd's credentials file and one token file per credential, all mode 0600
// from the moment they exist.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace kiln::cli {

struct LabCredentials {
  std::string credentials_file;                    // for kilnd --credentials
  std::map<std::string, std::string> rack_tokens;  // rack id → token file for its kiln-agent
  std::string admin_token;                         // token file of the admin client
  std::string admin_secret;
};

Result<LabCredentials> write_lab_credentials(const std::filesystem::path& dir, const std::vector<std::string>& racks);

// 256 random bits as 64 hex digits.
std::string random_secret();

}  // namespace kiln::cli
