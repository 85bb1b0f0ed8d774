#pragma once
// The HTML report's page: one self-contained document (its style inline, no
// script, no font, no URL of any kind), so it opens offline and can be
// attached to a ticket. Every string that comes from the database goes
// through html_escape.

#include <string>

namespace kiln::reports {

// Text safe inside an element or a quoted attribute: & < > " ' escaped,
// control characters other than tab and newline dropped.
std::string html_escape(const std::string& text);

// <!DOCTYPE html> … with the report's stylesheet; `title` is escaped,
// `body` is HTML already.
std::string html_page(const std::string& title, const std::string& body);

}  // namespace kiln::reports
