#pragma once
// What the host tells about its CPUs, for the cpu backend's telemetry
// (DESIGN §7): procfs and sysfs files, each read where it exists and is
// readable, otherwise the reading is unavailable (never 0).
//
//   utilization   /proc/stat, busy share of the chip's CPUs since the last read
//   clock_mhz     cpufreq scaling_cur_freq of the chip's CPUs, else /proc/cpuinfo "cpu MHz"
//   temperature_c hwmon k10temp/coretemp/zenpower temp1_input, else the
//                 thermal zone of type x86_pkg_temp, else thermal_zone0
//   power_w       RAPL package energy (powercap intel-rapl:0 energy_uj) over the last interval
//
// Parsers are pure (text in, value out); the reader takes a root directory
// so tests can point it at a fake tree.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "device/chip.hpp"

namespace kiln::device {

struct CpuTimes {
  std::uint64_t busy = 0;
  std::uint64_t total = 0;
};
// Sums the "cpuN" lines of `cpus` (all of them: the "cpu" line when empty).
std::optional<CpuTimes> parse_proc_stat(std::string_view text, const std::vector<int>& cpus);
// Average "cpu MHz" of the processors in `cpus` (all when empty).
std::optional<double> parse_cpuinfo_mhz(std::string_view text, const std::vector<int>& cpus);

class HostSensors {
 public:
  explicit HostSensors(std::string root = "/", std::vector<int> cpus = {});

  // Utilization and power are rates since the previous read (the first
  // read has none for them).
  Telemetry read();

 private:
  std::optional<std::string> file(const std::string& path) const;
  std::optional<double> number(const std::string& path) const;
  std::optional<double> temperature() const;
  std::optional<double> clock() const;

  std::string root_;
  std::vector<int> cpus_;
  std::optional<CpuTimes> last_times_;
  std::optional<double> last_energy_uj_;
  std::optional<double> last_energy_at_s_;
};

}  // namespace kiln::device
