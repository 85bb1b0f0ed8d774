#include "yaml/strict_yaml.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

namespace kiln::yaml {

std::string Diagnostic::to_string() const {
  if (mark.line == 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, mark.line, mark.column, message);
}

void Diagnostics::error(Mark mark, std::string message) {
  list_.push_back(Diagnostic{file_, mark, std::move(message)});
}

std::string Diagnostics::to_string() const {
  std::string out;
  for (const auto& d : list_) {
    out += d.to_string();
    out += '\n';
  }
  return out;
}

const Node* Node::find(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k.scalar() == key) return &v;
  }
  return nullptr;
}

const char* Node::kind_name(Kind kind) {
  switch (kind) {
    case Kind::null: return "null";
    case Kind::scalar: return "scalar";
    case Kind::sequence: return "list";
    case Kind::map: return "mapping";
  }
  return "?";
}

namespace {

Mark to_mark(const YAML::Mark& m) {
  if (m.is_null()) return {};
  return Mark{static_cast<std::uint32_t>(m.line + 1), static_cast<std::uint32_t>(m.column + 1)};
}

// yaml-cpp reports some errors where it looked for more input: a column or
// two past the end of the text, or no mark at all. A message points inside
// the file: at the mark's line, its column capped at the line's end, and at
// the end of the text when the mark is past it or missing.
Mark within_text(Mark mark, std::string_view text) {
  std::uint32_t line = 1;
  std::size_t start = 0;  // of the line
  const std::uint32_t wanted = mark.line == 0 ? std::numeric_limits<std::uint32_t>::max() : mark.line;
  for (std::size_t i = 0; i < text.size() && line < wanted; ++i) {
    if (text[i] == '\n') {
      ++line;
      start = i + 1;
    }
  }
  const std::size_t end = std::min(text.find('\n', start), text.size());
  const auto last_column = static_cast<std::uint32_t>(end - start + 1);
  if (line < wanted) return Mark{line, last_column};  // past the last line, or no mark
  return Mark{line, std::clamp<std::uint32_t>(mark.column, 1, last_column)};
}

struct StopParsing {};

}  // namespace

// Turns yaml-cpp's events into a Node tree, refusing what Kiln's files must not contain.
class TreeBuilder final : public YAML::EventHandler {
 public:
  TreeBuilder(Diagnostics& diagnostics, const Limits& limits) : diagnostics_(diagnostics), limits_(limits) {}

  std::optional<Node>& root() { return root_; }

  void OnDocumentStart(const YAML::Mark& mark) override { document_mark_ = to_mark(mark); }
  Mark document_mark() const { return document_mark_; }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    check_anchor(mark, anchor);
    Node node;
    node.mark_ = to_mark(mark);
    emit(std::move(node));
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    count_node(mark);
    // One report per anchor: an alias bomb repeats the same few aliases
    // hundreds of times, and a wall of identical errors hides the point.
    if (reported_aliases_.insert(anchor).second) {
      const auto name = anchor_names_.find(anchor);
      diagnostics_.error(to_mark(mark), fmt::format("aliases (*{}) are not allowed",
                                                    name != anchor_names_.end() ? name->second : "name"));
    }
    Node node;
    node.mark_ = to_mark(mark);
    emit(std::move(node));
  }

  void OnAnchor(const YAML::Mark& mark, const std::string& name) override {
    diagnostics_.error(to_mark(mark), fmt::format("anchors (&{}) are not allowed", name));
    pending_anchor_name_ = name;
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    check_anchor(mark, anchor);
    check_tag(mark, tag);
    Node node;
    node.kind_ = Node::Kind::scalar;
    node.mark_ = to_mark(mark);
    node.quoted_ = tag == "!";
    node.scalar_ = value;
    emit(std::move(node));
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, tag, anchor, Node::Kind::sequence);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, tag, anchor, Node::Kind::map);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    Node node;
    std::optional<Node> pending_key;
    std::unordered_map<std::string, Mark> keys;
  };

  void count_node(const YAML::Mark& mark) {
    if (++nodes_ > limits_.max_nodes) {
      diagnostics_.error(to_mark(mark), fmt::format("too many nodes (limit {})", limits_.max_nodes));
      throw StopParsing{};
    }
  }

  void check_anchor(const YAML::Mark& mark, YAML::anchor_t anchor) {
    count_node(mark);
    if (anchor == YAML::NullAnchor) return;
    // OnAnchor (called just before) reported it and named it.
    anchor_names_[anchor] = std::move(pending_anchor_name_);
    pending_anchor_name_.clear();
  }

  void check_tag(const YAML::Mark& mark, const std::string& tag) {
    if (!tag.empty() && tag != "?" && tag != "!") {
      diagnostics_.error(to_mark(mark), fmt::format("explicit tags ({}) are not allowed", tag));
    }
  }

  void open(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor, Node::Kind kind) {
    check_anchor(mark, anchor);
    check_tag(mark, tag);
    if (stack_.size() >= limits_.max_depth) {
      diagnostics_.error(to_mark(mark), fmt::format("nesting deeper than {} levels", limits_.max_depth));
      throw StopParsing{};
    }
    Frame frame;
    frame.node.kind_ = kind;
    frame.node.mark_ = to_mark(mark);
    stack_.push_back(std::move(frame));
  }

  void close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    emit(std::move(frame.node));
  }

  void emit(Node node) {
    if (stack_.empty()) {
      root_ = std::move(node);
      return;
    }
    Frame& top = stack_.back();
    if (top.node.kind_ == Node::Kind::sequence) {
      top.node.items_.push_back(std::move(node));
      return;
    }
    if (!top.pending_key) {
      if (node.kind_ != Node::Kind::scalar) {
        diagnostics_.error(node.mark_, "mapping keys must be plain scalars");
        node.kind_ = Node::Kind::scalar;  // keep going to report more errors
      }
      const auto [first, inserted] = top.keys.emplace(node.scalar_, node.mark_);
      if (!inserted) {
        diagnostics_.error(node.mark_,
                           fmt::format("duplicate key '{}' (first at line {})", node.scalar_, first->second.line));
      }
      top.pending_key = std::move(node);
      return;
    }
    // `key:` with nothing after it: yaml-cpp marks the null where the next
    // token starts (the next line); point at the key instead.
    if (node.kind_ == Node::Kind::null && node.mark_.line > top.pending_key->mark_.line &&
        node.mark_.column <= top.pending_key->mark_.column) {
      node.mark_ = top.pending_key->mark_;
    }
    top.node.entries_.emplace_back(std::move(*top.pending_key), std::move(node));
    top.pending_key.reset();
  }

  Diagnostics& diagnostics_;
  const Limits& limits_;
  std::optional<Node> root_;
  std::vector<Frame> stack_;
  Mark document_mark_;
  std::size_t nodes_ = 0;
  std::string pending_anchor_name_;
  std::unordered_map<YAML::anchor_t, std::string> anchor_names_;
  std::unordered_set<YAML::anchor_t> reported_aliases_;
};

std::optional<Node> parse(std::string_view text, Diagnostics& diagnostics, const Limits& limits) {
  if (text.size() > limits.max_bytes) {
    diagnostics.error({},
                      fmt::format("file is {} bytes, larger than the {} byte limit", text.size(), limits.max_bytes));
    return std::nullopt;
  }
  const std::size_t errors_before = diagnostics.size();
  std::istringstream stream{std::string(text)};
  TreeBuilder builder(diagnostics, limits);
  try {
    YAML::Parser parser(stream);
    if (!parser.HandleNextDocument(builder)) {
      diagnostics.error({1, 1}, "the file is empty");
      return std::nullopt;
    }
    TreeBuilder rest(diagnostics, limits);
    if (parser.HandleNextDocument(rest)) {
      diagnostics.error(rest.document_mark(), "only one YAML document per file is allowed");
    }
  } catch (const YAML::Exception& e) {
    diagnostics.error(within_text(to_mark(e.mark), text), e.msg);
    return std::nullopt;
  } catch (const StopParsing&) {
    return std::nullopt;
  }
  if (diagnostics.size() != errors_before || !builder.root()) return std::nullopt;
  if (builder.root()->is_null()) {
    diagnostics.error({1, 1}, "the file is empty");
    return std::nullopt;
  }
  return std::move(builder.root());
}

// ------------------------------------------------------------ conversions

namespace {

bool wrong_kind(const Node& node, Diagnostics& diagnostics, std::string_view what, std::string_view expected) {
  if (node.is_scalar()) return false;
  diagnostics.error(node.mark(),
                    fmt::format("{}: expected {}, got a {}", what, expected, Node::kind_name(node.kind())));
  return true;
}

// What the user wrote, as a message shows it; a quoted scalar is a string
// whatever it looks like, which is worth saying when a number was expected.
std::string shown(const Node& node) {
  if (node.quoted()) return fmt::format("\"{}\" (quoted, so a string)", node.scalar());
  return fmt::format("'{}'", node.scalar());
}

}  // namespace

std::optional<std::string> as_string(const Node& node, Diagnostics& diagnostics, std::string_view what) {
  if (wrong_kind(node, diagnostics, what, "a string")) return std::nullopt;
  return node.scalar();
}

std::optional<double> as_number(const Node& node, Diagnostics& diagnostics, std::string_view what) {
  if (wrong_kind(node, diagnostics, what, "a number")) return std::nullopt;
  const std::string& s = node.scalar();
  double value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (node.quoted() || s.empty() || ec != std::errc{} || ptr != s.data() + s.size() || !std::isfinite(value)) {
    diagnostics.error(node.mark(), fmt::format("{}: expected a number, got {}", what, shown(node)));
    return std::nullopt;
  }
  return value;
}

std::optional<std::int64_t> as_integer(const Node& node, Diagnostics& diagnostics, std::string_view what) {
  if (wrong_kind(node, diagnostics, what, "an integer")) return std::nullopt;
  const std::string& s = node.scalar();
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (node.quoted() || s.empty() || ec != std::errc{} || ptr != s.data() + s.size()) {
    diagnostics.error(node.mark(), fmt::format("{}: expected an integer, got {}", what, shown(node)));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> as_bool(const Node& node, Diagnostics& diagnostics, std::string_view what) {
  if (wrong_kind(node, diagnostics, what, "true or false")) return std::nullopt;
  if (!node.quoted() && node.scalar() == "true") return true;
  if (!node.quoted() && node.scalar() == "false") return false;
  diagnostics.error(node.mark(), fmt::format("{}: expected true or false, got {}", what, shown(node)));
  return std::nullopt;
}

std::optional<Seconds> as_duration(const Node& node, Diagnostics& diagnostics, std::string_view what) {
  if (wrong_kind(node, diagnostics, what, "a duration such as 90s or 5m")) return std::nullopt;
  auto parsed = parse_duration(node.scalar());
  if (!parsed) {
    diagnostics.error(node.mark(), fmt::format("{}: {}", what, parsed.error().message));
    return std::nullopt;
  }
  return *parsed;
}

std::optional<std::uint64_t> as_size(const Node& node, Diagnostics& diagnostics, std::string_view what) {
  if (wrong_kind(node, diagnostics, what, "a size such as 64MiB")) return std::nullopt;
  auto parsed = parse_size(node.scalar());
  if (!parsed) {
    diagnostics.error(node.mark(), fmt::format("{}: {}", what, parsed.error().message));
    return std::nullopt;
  }
  return *parsed;
}

// ------------------------------------------------------------ MapReader

namespace {
// An empty `what` stands for the top level of a file: its keys are named bare.
std::string qualified(const std::string& what, std::string_view key) {
  return what.empty() ? std::string(key) : fmt::format("{}.{}", what, key);
}
std::string prefix(const std::string& what) { return what.empty() ? std::string() : what + ": "; }
}  // namespace

MapReader::MapReader(const Node& node, Diagnostics& diagnostics, std::string what)
    : diagnostics_(diagnostics), what_(std::move(what)) {
  if (node.is_map()) {
    map_ = &node;
  } else {
    diagnostics_.error(node.mark(),
                       fmt::format("{}expected a mapping, got a {}", prefix(what_), Node::kind_name(node.kind())));
  }
}

const Node& MapReader::node() const { return *map_; }

const Node* MapReader::get(std::string_view key, bool required) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  if (map_ == nullptr) return nullptr;
  const Node* value = map_->find(key);
  if (value == nullptr && required) {
    diagnostics_.error(map_->mark(), fmt::format("{}missing required key '{}'", prefix(what_), key));
  }
  return value;
}

std::optional<std::string> MapReader::string(std::string_view key, bool required) {
  const Node* n = get(key, required);
  return n ? as_string(*n, diagnostics_, qualified(what_, key)) : std::nullopt;
}
std::optional<double> MapReader::number(std::string_view key, bool required) {
  const Node* n = get(key, required);
  return n ? as_number(*n, diagnostics_, qualified(what_, key)) : std::nullopt;
}
std::optional<std::int64_t> MapReader::integer(std::string_view key, bool required) {
  const Node* n = get(key, required);
  return n ? as_integer(*n, diagnostics_, qualified(what_, key)) : std::nullopt;
}
std::optional<bool> MapReader::boolean(std::string_view key, bool required) {
  const Node* n = get(key, required);
  return n ? as_bool(*n, diagnostics_, qualified(what_, key)) : std::nullopt;
}
std::optional<Seconds> MapReader::duration(std::string_view key, bool required) {
  const Node* n = get(key, required);
  return n ? as_duration(*n, diagnostics_, qualified(what_, key)) : std::nullopt;
}

bool MapReader::check_range(std::string_view key, double value, double lo, double hi) {
  if (value >= lo && value <= hi) return true;
  const Node* n = map_ ? map_->find(key) : nullptr;
  diagnostics_.error(n ? n->mark() : Mark{},
                     fmt::format("{}: {} is out of range [{}, {}]", qualified(what_, key), value, lo, hi));
  return false;
}

void MapReader::finish() {
  if (map_ == nullptr) return;
  for (const auto& [key, value] : map_->entries()) {
    bool known = false;
    for (const auto& k : known_) known = known || k == key.scalar();
    if (known) continue;
    std::string expected;
    for (const auto& k : known_) expected += (expected.empty() ? "" : ", ") + k;
    diagnostics_.error(key.mark(),
                       fmt::format("{}unknown key '{}' (expected one of: {})", prefix(what_), key.scalar(), expected));
  }
}

}  // namespace kiln::yaml
