#include "reports/report_html_page.hpp"

#include <fmt/format.h>

namespace kiln::reports {
namespace {

// Verdict colours are the dashboard's (gui/widgets/tile_style.cpp) in spirit:
// green pass, amber marginal, grey inconclusive, violet error, red fail.
constexpr const char* kStyle = R"(
body{font-family:sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ccc}
h3{font-size:15px;margin:16px 0 6px}
.meta{color:#555;font-size:13px}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left}
th{background:#f2f2f2}
td.v{text-align:center;font-weight:bold}
.v-pass{background:#c8e6c9}.v-marginal{background:#ffe082}.v-inconclusive{background:#cfd8dc}
.v-error{background:#d1c4e9}.v-fail{background:#ef9a9a}.v-none{background:#fff;color:#999}
.legend span{display:inline-block;padding:2px 10px;margin-right:6px;border:1px solid #ccc;font-size:12px}
code,.repro{font-family:monospace;font-size:13px}
.repro{background:#f6f6f6;border:1px solid #ddd;padding:8px;white-space:pre-wrap}
.charts{display:flex;flex-wrap:wrap;gap:10px}
.charts figure{margin:0;border:1px solid #ddd;padding:4px}
figcaption{font-size:12px;color:#444}
.shmoo td{width:14px;height:14px;padding:0;font-size:10px;text-align:center}
.s-pass{background:#66bb6a}.s-fail{background:#e53935}.s-refused{background:#9e9e9e}.s-notrun{background:#fff}
.heat td.l{text-align:center;min-width:90px}
.note{color:#666;font-size:12px}
)";

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) continue;
        out += ch;
    }
  }
  return out;
}

std::string html_page(const std::string& title, const std::string& body) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n"
      "<style>{}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
      html_escape(title), kStyle, body);
}

}  // namespace kiln::reports
