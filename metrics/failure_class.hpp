#pragma once
// The failure classes of DESIGN §5: what kind of fault a failure is. One
// enum for every room; the wire (kiln.proto FailureClass) and the store
// (failures.class, its CHECK constraint) carry the same names.

#include <optional>
#include <span>
#include <string_view>

namespace kiln::metrics {

enum class FailureClass {
  sdc,               // silent data corruption at (core, pe, bit)
  margin,            // corruption past an operating point (voltage_mv, clock_mhz)
  underperforming,   // below a performance floor
  thermal,           // too hot, throttling, critical temperature
  power,             // power or voltage out of bounds
  memory_ce_excess,  // too many correctable ECC errors
  memory_ue,         // an uncorrectable ECC error
  memory_pattern,    // a memory pattern read back a wrong bit (stack, channel, bit)
  link_errors,       // CRC errors or corrupted data on a link
  link_degraded,     // a link trained below its rate or width
  link_down,         // a link dropped
  hang,              // the chip stopped making progress
};

std::string_view to_string(FailureClass cls);
std::optional<FailureClass> parse_failure_class(std::string_view text);
// Every class, in declaration order.
std::span<const FailureClass> all_failure_classes();

}  // namespace kiln::metrics
