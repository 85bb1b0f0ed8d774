#include "net/reply_parts.hpp"

#include <algorithm>

namespace kiln::net {
namespace {

std::size_t size_of(const kiln::v1::QueryReply& part) { return part.ByteSizeLong(); }

void merge_into(kiln::v1::QueryReply& joined, const kiln::v1::QueryReply& next) {
  std::string body = std::move(*joined.mutable_body());
  body += next.body();
  joined.MergeFrom(next);  // typed parts: repeated fields concatenate
  joined.set_body(std::move(body));
  joined.set_more(next.more());  // a merge keeps `true` over a default `false`
}

std::vector<kiln::v1::QueryReply> split_body(const kiln::v1::QueryReply& reply, std::size_t max_part) {
  std::vector<kiln::v1::QueryReply> parts;
  const std::string& body = reply.body();
  std::size_t offset = 0;
  do {
    const std::size_t n = std::min(max_part, body.size() - offset);
    kiln::v1::QueryReply& part = parts.emplace_back();
    part.set_body(body.substr(offset, n));
    part.set_content_type(reply.content_type());
    offset += n;
  } while (offset < body.size());
  return parts;
}

std::vector<kiln::v1::QueryReply> split_telemetry(const kiln::v1::QueryReply& reply, std::size_t max_part) {
  const kiln::v1::TelemetrySeries& whole = reply.telemetry();
  std::vector<kiln::v1::QueryReply> parts;
  auto start_part = [&] {
    kiln::v1::QueryReply& part = parts.emplace_back();
    part.mutable_telemetry()->set_run_id(whole.run_id());
    return &part;
  };
  kiln::v1::QueryReply* current = start_part();
  for (const kiln::v1::MetricSeries& series : whole.series()) {
    if (size_of(*current) + series.ByteSizeLong() + 16 <= max_part) {
      *current->mutable_telemetry()->add_series() = series;
      continue;
    }
    if (current->telemetry().series_size() > 0) current = start_part();
    // Two doubles per point, with room for the series' own key and tags.
    const std::size_t overhead = series.serial().size() + series.metric().size() + 64;
    const auto per_part = static_cast<int>(std::max<std::size_t>(1, (max_part - std::min(max_part, overhead)) / 16));
    for (int from = 0; from < series.t_s_size(); from += per_part) {
      if (current->telemetry().series_size() > 0) current = start_part();
      kiln::v1::MetricSeries* piece = current->mutable_telemetry()->add_series();
      piece->set_serial(series.serial());
      piece->set_step_index(series.step_index());
      piece->set_metric(series.metric());
      const int to = std::min(series.t_s_size(), from + per_part);
      for (int i = from; i < to; ++i) {
        piece->add_t_s(series.t_s(i));
        piece->add_values(i < series.values_size() ? series.values(i) : 0.0);
      }
    }
  }
  if (parts.size() > 1 && parts.back().telemetry().series_size() == 0) parts.pop_back();
  return parts;
}

// Roll-ups between their series (a chip-step-metric's roll-ups are a few
// hundred entries, far below a part); the pruned time goes with every part.
std::vector<kiln::v1::QueryReply> split_rollups(const kiln::v1::QueryReply& reply, std::size_t max_part) {
  const kiln::v1::TelemetryRollups& whole = reply.rollups();
  std::vector<kiln::v1::QueryReply> parts;
  auto start_part = [&] {
    kiln::v1::QueryReply& part = parts.emplace_back();
    part.mutable_rollups()->set_run_id(whole.run_id());
    part.mutable_rollups()->set_raw_pruned_unix_ms(whole.raw_pruned_unix_ms());
    return &part;
  };
  kiln::v1::QueryReply* current = start_part();
  for (const kiln::v1::MetricRollups& series : whole.series()) {
    if (current->rollups().series_size() > 0 && size_of(*current) + series.ByteSizeLong() + 16 > max_part) {
      current = start_part();
    }
    *current->mutable_rollups()->add_series() = series;
  }
  return parts;
}

}  // namespace

Result<std::optional<kiln::v1::Envelope>> ReplyJoiner::add(kiln::v1::Envelope part) {
  const std::uint64_t id = part.request_id();
  auto it = partial_.find(id);
  if (!part.has_query_reply()) {
    // An ErrorReply (or any other answer) ends the request, whatever came before.
    forget(id);
    return std::optional<kiln::v1::Envelope>(std::move(part));
  }
  const std::size_t part_bytes = part.query_reply().ByteSizeLong();
  if (it == partial_.end() && !part.query_reply().more()) return std::optional<kiln::v1::Envelope>(std::move(part));
  if (bytes_ + part_bytes > max_bytes_) {
    forget(id);
    return make_error(ErrorCode::unavailable, "reply to request {} is larger than {} MiB", id, max_bytes_ >> 20);
  }
  if (it == partial_.end()) {
    it = partial_.emplace(id, Partial{std::move(part), 0}).first;
  } else {
    merge_into(*it->second.joined.mutable_query_reply(), part.query_reply());
  }
  it->second.bytes += part_bytes;
  bytes_ += part_bytes;
  if (it->second.joined.query_reply().more()) return std::optional<kiln::v1::Envelope>();
  kiln::v1::Envelope whole = std::move(it->second.joined);
  bytes_ -= it->second.bytes;
  partial_.erase(it);
  return std::optional<kiln::v1::Envelope>(std::move(whole));
}

void ReplyJoiner::forget(std::uint64_t request_id) {
  auto it = partial_.find(request_id);
  if (it == partial_.end()) return;
  bytes_ -= it->second.bytes;
  partial_.erase(it);
}

void ReplyJoiner::clear() {
  partial_.clear();
  bytes_ = 0;
}

std::vector<kiln::v1::QueryReply> split_reply(kiln::v1::QueryReply reply, std::size_t max_part_bytes) {
  const std::size_t max_part = std::max<std::size_t>(max_part_bytes, 1024);
  std::vector<kiln::v1::QueryReply> parts;
  if (size_of(reply) <= max_part) {
    parts.push_back(std::move(reply));
  } else if (reply.typed_case() == kiln::v1::QueryReply::kTelemetry) {
    parts = split_telemetry(reply, max_part);
  } else if (reply.typed_case() == kiln::v1::QueryReply::kRollups) {
    parts = split_rollups(reply, max_part);
  } else if (reply.typed_case() == kiln::v1::QueryReply::TYPED_NOT_SET) {
    parts = split_body(reply, max_part);
  } else {
    parts.push_back(std::move(reply));
  }
  for (std::size_t i = 0; i < parts.size(); ++i) parts[i].set_more(i + 1 < parts.size());
  return parts;
}

}  // namespace kiln::net
