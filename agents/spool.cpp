#include "agents/spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include <fmt/format.h>

#include "agents/registration.hpp"

namespace kiln::agent {
namespace {

constexpr std::uint8_t kRackRecord = 0;
constexpr std::uint8_t kSampleRecord = 1;
constexpr std::uint8_t kResultRecord = 2;
constexpr std::uint8_t kChunkRecord = 3;
constexpr std::size_t kRecordHeader = 8;              // u32 length, u32 crc
constexpr std::uint32_t kMaxRecordBytes = 64u << 20;  // far above any item; a wild length is corruption
constexpr const char* kKeyFile = "epoch.key";
constexpr const char* kBatchSuffix = ".batch";

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint32_t get_u32(const std::string& in, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

std::uint32_t crc_of(std::uint8_t kind, const std::string& payload) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto k = static_cast<Bytef>(kind);
  crc = crc32(crc, &k, 1);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()));
  return static_cast<std::uint32_t>(crc);
}

std::string record(std::uint8_t kind, const std::string& payload) {
  std::string out;
  out.reserve(kRecordHeader + 1 + payload.size());
  put_u32(out, static_cast<std::uint32_t>(payload.size() + 1));
  put_u32(out, crc_of(kind, payload));
  out.push_back(static_cast<char>(kind));
  out += payload;
  return out;
}

std::string errno_text() { return std::strerror(errno); }

// Only the agent's user may own, read, write or enter it.
Status check_private(const std::filesystem::path& path, const struct stat& st, bool directory) {
  if (st.st_uid != geteuid()) {
    return make_error(ErrorCode::permission_denied, "spool {} '{}' is owned by uid {}, not by this agent's uid {}",
                      directory ? "directory" : "file", path.string(), st.st_uid, geteuid());
  }
  if ((st.st_mode & 077) != 0) {
    return make_error(ErrorCode::permission_denied,
                      "spool {} '{}' has mode {:04o}: group and others must have no access (make it {})",
                      directory ? "directory" : "file", path.string(), st.st_mode & 07777, directory ? "0700" : "0600");
  }
  return {};
}

Status write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(ErrorCode::unavailable, "spool write: {}", errno_text());
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::unavailable, "cannot read '{}'", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<std::string> load_or_make_key(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) return make_error(ErrorCode::invalid_argument, "'{}' is not a file", path.string());
    KILN_TRY(check_private(path, st, false));
    KILN_TRY_ASSIGN(auto text, read_file(path));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.size() < 32 || !std::all_of(text.begin(), text.end(), [](char c) { return std::isxdigit(c) != 0; })) {
      return make_error(ErrorCode::invalid_argument, "spool key '{}' is not a key (32 or more hex digits)",
                        path.string());
    }
    return text;
  }
  std::string key = random_epoch_key();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorCode::unavailable, "cannot create '{}': {}", path.string(), errno_text());
  Status written = write_all(fd, key + "\n");
  ::close(fd);
  KILN_TRY(written);
  return key;
}

// "<epoch>-<seq>.batch" → (epoch, seq).
bool parse_name(const std::string& name, std::uint64_t& epoch, std::uint64_t& seq) {
  if (!name.ends_with(kBatchSuffix)) return false;
  const std::string stem = name.substr(0, name.size() - std::strlen(kBatchSuffix));
  const auto dash = stem.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == stem.size()) return false;
  try {
    std::size_t used = 0;
    epoch = std::stoull(stem.substr(0, dash), &used);
    if (used != dash) return false;
    seq = std::stoull(stem.substr(dash + 1), &used);
    return used == stem.size() - dash - 1;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

SpoolFileContents parse_spool_file(const std::string& bytes) {
  SpoolFileContents out;
  std::size_t at = 0;
  bool first = true;
  while (at < bytes.size()) {
    if (bytes.size() - at < kRecordHeader + 1) {
      out.warning = fmt::format("a torn record at byte {} ({} bytes left)", at, bytes.size() - at);
      break;
    }
    const std::uint32_t length = get_u32(bytes, at);
    const std::uint32_t crc = get_u32(bytes, at + 4);
    if (length == 0 || length > kMaxRecordBytes || bytes.size() - at - kRecordHeader < length) {
      out.warning = fmt::format("a torn record at byte {} (length {}, {} bytes left)", at, length,
                                bytes.size() - at - kRecordHeader);
      break;
    }
    const auto kind = static_cast<std::uint8_t>(bytes[at + kRecordHeader]);
    const std::string payload = bytes.substr(at + kRecordHeader + 1, length - 1);
    if (crc_of(kind, payload) != crc) {
      out.warning = fmt::format("a record at byte {} fails its checksum", at);
      break;
    }
    bool parsed = false;
    if (first) {
      parsed = kind == kRackRecord;
      out.rack = payload;
    } else if (kind == kSampleRecord) {
      parsed = out.batch.add_samples()->ParseFromString(payload);
    } else if (kind == kResultRecord) {
      parsed = out.batch.add_results()->ParseFromString(payload);
    } else if (kind == kChunkRecord) {
      parsed = out.batch.add_chunks()->ParseFromString(payload);
    }
    if (!parsed) {
      out.warning = fmt::format("a record at byte {} of kind {} does not parse", at, kind);
      break;
    }
    first = false;
    at += kRecordHeader + length;
  }
  return out;
}

Result<std::unique_ptr<Spool>> Spool::open(SpoolOptions options, const std::string& rack) {
  if (options.dir.empty()) return make_error(ErrorCode::invalid_argument, "no spool directory");
  if (options.max_bytes == 0) return make_error(ErrorCode::invalid_argument, "a spool of 0 bytes");
  struct stat st {};
  if (::lstat(options.dir.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return make_error(ErrorCode::unavailable, "spool directory '{}': {}", options.dir.string(), errno_text());
    }
    std::error_code ec;
    if (options.dir.has_parent_path()) std::filesystem::create_directories(options.dir.parent_path(), ec);
    if (::mkdir(options.dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return make_error(ErrorCode::unavailable, "cannot create spool directory '{}': {}", options.dir.string(),
                        errno_text());
    }
    if (::lstat(options.dir.c_str(), &st) != 0) {
      return make_error(ErrorCode::unavailable, "spool directory '{}': {}", options.dir.string(), errno_text());
    }
  }
  if (!S_ISDIR(st.st_mode)) {
    return make_error(ErrorCode::invalid_argument, "spool '{}' is not a directory", options.dir.string());
  }
  KILN_TRY(check_private(options.dir, st, true));
  KILN_TRY_ASSIGN(auto key, load_or_make_key(options.dir / kKeyFile));
  std::unique_ptr<Spool> spool(new Spool(std::move(options), rack, std::move(key)));
  spool->recover();
  for (const auto& w : spool->warnings_) {
    if (w.find("belongs to rack") != std::string::npos) return make_error(ErrorCode::invalid_argument, "{}", w);
  }
  return spool;
}

Spool::Spool(SpoolOptions options, std::string rack, std::string key)
    : options_(std::move(options)), rack_(std::move(rack)), key_(std::move(key)) {}

Spool::~Spool() { seal(); }

std::filesystem::path Spool::file(std::uint64_t epoch, std::uint64_t seq) const {
  return options_.dir / fmt::format("{:020}-{:020}{}", epoch, seq, kBatchSuffix);
}

void Spool::recover() {
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(options_.dir, ec)) {
    std::uint64_t epoch = 0, seq = 0;
    if (entry.is_regular_file() && parse_name(entry.path().filename().string(), epoch, seq)) {
      files[{epoch, seq}] = entry.path();
    }
  }
  for (const auto& [id, path] : files) {
    auto bytes = read_file(path);
    if (!bytes) {
      warnings_.push_back(bytes.error().message);
      continue;
    }
    SpoolFileContents contents = parse_spool_file(*bytes);
    if (!contents.rack.empty() && contents.rack != rack_) {
      warnings_.push_back(
          fmt::format("spool '{}' belongs to rack {}, not {}", options_.dir.string(), contents.rack, rack_));
      return;
    }
    if (!contents.warning.empty()) {
      warnings_.push_back(
          fmt::format("spool file '{}': {}; the records before it are kept", path.string(), contents.warning));
    }
    if (contents.batch.samples_size() == 0 && contents.batch.results_size() == 0) {
      std::filesystem::remove(path, ec);  // nothing to resend
      continue;
    }
    contents.batch.set_rack(rack_);
    contents.batch.set_epoch(id.first);
    contents.batch.set_seq(id.second);
    bytes_ += bytes->size();
    newest_epoch_ = std::max(newest_epoch_, id.first);
    recovered_.push_back(std::move(contents.batch));
  }
}

std::vector<kiln::v1::AgentBatch> Spool::take_recovered() { return std::exchange(recovered_, {}); }

Status Spool::append_sample(std::uint64_t epoch, std::uint64_t seq, const kiln::v1::Sample& sample) {
  return append(epoch, seq, kSampleRecord, sample.SerializeAsString());
}

Status Spool::append_result(std::uint64_t epoch, std::uint64_t seq, const kiln::v1::ChipStepResult& result) {
  return append(epoch, seq, kResultRecord, result.SerializeAsString());
}

Status Spool::append_chunk(std::uint64_t epoch, std::uint64_t seq, const kiln::v1::TelemetryChunk& chunk) {
  return append(epoch, seq, kChunkRecord, chunk.SerializeAsString());
}

Status Spool::append(std::uint64_t epoch, std::uint64_t seq, std::uint8_t kind, const std::string& payload) {
  if (fd_ >= 0 && (open_epoch_ != epoch || open_seq_ != seq)) seal();
  if (fd_ < 0) {
    const auto path = file(epoch, seq);
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) return make_error(ErrorCode::unavailable, "cannot create '{}': {}", path.string(), errno_text());
    open_epoch_ = epoch;
    open_seq_ = seq;
    const std::string header = record(kRackRecord, rack_);
    KILN_TRY(write_all(fd_, header));
    bytes_ += header.size();
  }
  // One write per record: a kill -9 leaves at most the last one torn.
  const std::string bytes = record(kind, payload);
  KILN_TRY(write_all(fd_, bytes));
  bytes_ += bytes.size();
  return {};
}

void Spool::seal() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
}

Result<kiln::v1::AgentBatch> Spool::load(std::uint64_t epoch, std::uint64_t seq) const {
  KILN_TRY_ASSIGN(auto bytes, read_file(file(epoch, seq)));
  SpoolFileContents contents = parse_spool_file(bytes);
  if (!contents.warning.empty()) {
    return make_error(ErrorCode::internal, "spool batch {}/{}: {}", epoch, seq, contents.warning);
  }
  contents.batch.set_rack(rack_);
  contents.batch.set_epoch(epoch);
  contents.batch.set_seq(seq);
  return std::move(contents.batch);
}

void Spool::remove(std::uint64_t epoch, std::uint64_t seq) {
  if (fd_ >= 0 && open_epoch_ == epoch && open_seq_ == seq) seal();
  const auto path = file(epoch, seq);
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return;
  if (std::filesystem::remove(path, ec)) bytes_ -= std::min<std::uint64_t>(bytes_, size);
}

}  // namespace kiln::agent
