#pragma once
// Strict YAML for Kiln's configuration files (test plans, lab files, SKUs).
//
// yaml-cpp is lenient in ways that hurt a lab tool: it keeps duplicate keys
// silently, shares aliased nodes (a 300-byte alias bomb expands to hundreds
// of millions of nodes), reads yes/no/on/off as booleans. So we never build a
// YAML::Node: we read yaml-cpp's event stream into our own small tree, and
// reject anchors, aliases, duplicate keys, explicit tags and multiple
// documents as we go, with explicit caps on size, depth and node count.
// Every node keeps its line and column so every later error can say
// `file:line:col: message`. Nothing here depends on yaml-cpp's headers.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/units.hpp"

namespace kiln::yaml {

struct Mark {
  std::uint32_t line = 0;    // 1-based; 0 = unknown
  std::uint32_t column = 0;  // 1-based
};

struct Diagnostic {
  std::string file;
  Mark mark;
  std::string message;
  std::string to_string() const;  // "file:line:col: message"
};

// Collects every error of a file so that a user sees them all at once.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}
  void error(Mark mark, std::string message);
  bool empty() const { return list_.empty(); }
  std::size_t size() const { return list_.size(); }
  const std::vector<Diagnostic>& list() const { return list_; }
  const std::string& file() const { return file_; }
  std::string to_string() const;  // one diagnostic per line

 private:
  std::string file_;
  std::vector<Diagnostic> list_;
};

class Node {
 public:
  enum class Kind { null, scalar, sequence, map };
  using Entry = std::pair<Node, Node>;  // key (always a scalar), value

  Kind kind() const { return kind_; }
  Mark mark() const { return mark_; }
  bool is_null() const { return kind_ == Kind::null; }
  bool is_scalar() const { return kind_ == Kind::scalar; }
  bool is_sequence() const { return kind_ == Kind::sequence; }
  bool is_map() const { return kind_ == Kind::map; }
  // A quoted scalar ('x' or "x") is always a string, never a number or bool.
  bool quoted() const { return quoted_; }
  const std::string& scalar() const { return scalar_; }
  const std::vector<Node>& items() const { return items_; }
  const std::vector<Entry>& entries() const { return entries_; }
  // The value under `key` in a map, or nullptr.
  const Node* find(std::string_view key) const;

  static const char* kind_name(Kind kind);

 private:
  friend class TreeBuilder;
  Kind kind_ = Kind::null;
  Mark mark_;
  bool quoted_ = false;
  std::string scalar_;
  std::vector<Node> items_;
  std::vector<Entry> entries_;
};

struct Limits {
  std::size_t max_bytes = 1u << 20;  // 1 MiB
  std::size_t max_depth = 32;
  std::size_t max_nodes = 200'000;
};

// Parses one YAML document. On any error returns nullopt with the reasons in
// `diagnostics`. An empty document is an error too.
std::optional<Node> parse(std::string_view text, Diagnostics& diagnostics, const Limits& limits = {});

// ---- strict scalar conversions: report into `diagnostics`, return nullopt on error.
std::optional<std::string> as_string(const Node& node, Diagnostics& diagnostics, std::string_view what);
std::optional<double> as_number(const Node& node, Diagnostics& diagnostics, std::string_view what);
std::optional<std::int64_t> as_integer(const Node& node, Diagnostics& diagnostics, std::string_view what);
// Only `true` and `false` (unquoted). yes/no/on/off are errors.
std::optional<bool> as_bool(const Node& node, Diagnostics& diagnostics, std::string_view what);
std::optional<Seconds> as_duration(const Node& node, Diagnostics& diagnostics, std::string_view what);
std::optional<std::uint64_t> as_size(const Node& node, Diagnostics& diagnostics, std::string_view what);

// Reads the keys of one mapping, remembering which were asked for, so that
// finish() can report every unknown key with the list of known ones.
class MapReader {
 public:
  // Reports an error (and reads nothing) if `node` is not a map.
  MapReader(const Node& node, Diagnostics& diagnostics, std::string what);
  bool valid() const { return map_ != nullptr; }
  const Node& node() const;

  // nullptr when absent; reports "missing required key" when `required`.
  const Node* get(std::string_view key, bool required = false);

  std::optional<std::string> string(std::string_view key, bool required = false);
  std::optional<double> number(std::string_view key, bool required = false);
  std::optional<std::int64_t> integer(std::string_view key, bool required = false);
  std::optional<bool> boolean(std::string_view key, bool required = false);
  std::optional<Seconds> duration(std::string_view key, bool required = false);

  // Checks a value already read: reports at the key's value when outside [lo, hi].
  bool check_range(std::string_view key, double value, double lo, double hi);

  // Reports each key that was never asked for.
  void finish();

 private:
  const Node* map_ = nullptr;
  Diagnostics& diagnostics_;
  std::string what_;
  std::vector<std::string> known_;
};

}  // namespace kiln::yaml
