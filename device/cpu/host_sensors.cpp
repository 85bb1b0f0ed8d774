#include "device/cpu/host_sensors.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kiln::device {
namespace {

bool wanted(const std::vector<int>& cpus, int cpu) {
  return cpus.empty() || std::find(cpus.begin(), cpus.end(), cpu) != cpus.end();
}

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const auto end = text.find('\n');
    out.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

std::optional<std::uint64_t> to_u64(std::string_view s) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::optional<CpuTimes> parse_proc_stat(std::string_view text, const std::vector<int>& cpus) {
  CpuTimes sum;
  bool any = false;
  for (std::string_view line : lines(text)) {
    if (!line.starts_with("cpu")) continue;
    std::istringstream in{std::string(line)};
    std::string name;
    in >> name;
    const bool aggregate = name == "cpu";
    if (cpus.empty() != aggregate) continue;
    if (!aggregate) {
      const auto index = to_u64(std::string_view(name).substr(3));
      if (!index || !wanted(cpus, static_cast<int>(*index))) continue;
    }
    // user nice system idle iowait irq softirq steal (guest is inside user)
    std::uint64_t field[8] = {};
    int read = 0;
    for (auto& f : field) {
      if (!(in >> f)) break;
      ++read;
    }
    if (read < 4) return std::nullopt;
    const std::uint64_t idle = field[3] + field[4];
    std::uint64_t total = 0;
    for (const auto f : field) total += f;
    sum.total += total;
    sum.busy += total - idle;
    any = true;
  }
  if (!any) return std::nullopt;
  return sum;
}

std::optional<double> parse_cpuinfo_mhz(std::string_view text, const std::vector<int>& cpus) {
  int processor = -1;
  double total = 0;
  int count = 0;
  for (std::string_view line : lines(text)) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
    std::string value(line.substr(colon + 1));
    if (key == "processor") {
      processor = std::atoi(value.c_str());
    } else if (key == "cpu MHz" && wanted(cpus, processor)) {
      try {
        total += std::stod(value);
        ++count;
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  }
  if (count == 0) return std::nullopt;
  return total / count;
}

HostSensors::HostSensors(std::string root, std::vector<int> cpus) : root_(std::move(root)), cpus_(std::move(cpus)) {
  if (!root_.empty() && root_.back() != '/') root_ += '/';
}

std::optional<std::string> HostSensors::file(const std::string& path) const {
  std::ifstream in(root_ + path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

std::optional<double> HostSensors::number(const std::string& path) const {
  auto text = file(path);
  if (!text) return std::nullopt;
  try {
    return std::stod(*text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<double> HostSensors::temperature() const {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_ + "sys/class/hwmon", ec)) {
    const std::string dir = "sys/class/hwmon/" + entry.path().filename().string();
    auto name = file(dir + "/name");
    if (!name) continue;
    const std::string n = name->substr(0, name->find('\n'));
    if (n != "k10temp" && n != "coretemp" && n != "zenpower") continue;
    if (auto milli = number(dir + "/temp1_input")) return *milli / 1000.0;
  }
  std::optional<double> first;
  for (int zone = 0; zone < 64; ++zone) {
    const std::string dir = "sys/class/thermal/thermal_zone" + std::to_string(zone);
    auto type = file(dir + "/type");
    if (!type) break;
    auto milli = number(dir + "/temp");
    if (!milli) continue;
    if (type->starts_with("x86_pkg_temp")) return *milli / 1000.0;
    if (!first) first = *milli / 1000.0;
  }
  return first;
}

std::optional<double> HostSensors::clock() const {
  double total = 0;
  int count = 0;
  for (int cpu = 0; cpu < 4096; ++cpu) {
    if (!wanted(cpus_, cpu)) continue;
    auto khz = number("sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq/scaling_cur_freq");
    if (!khz) {
      if (cpus_.empty()) break;  // CPUs are numbered densely
      continue;
    }
    total += *khz / 1000.0;
    ++count;
  }
  if (count > 0) return total / count;
  if (auto info = file("proc/cpuinfo")) return parse_cpuinfo_mhz(*info, cpus_);
  return std::nullopt;
}

Telemetry HostSensors::read() {
  Telemetry t;
  t.temperature_c = temperature();
  t.clock_mhz = clock();
  if (auto stat = file("proc/stat")) {
    if (auto times = parse_proc_stat(*stat, cpus_)) {
      if (last_times_ && times->total > last_times_->total) {
        t.utilization = static_cast<double>(times->busy - std::min(times->busy, last_times_->busy)) /
                        static_cast<double>(times->total - last_times_->total);
      }
      last_times_ = times;
    }
  }
  if (auto energy = number("sys/class/powercap/intel-rapl:0/energy_uj")) {
    const double now = seconds_now();
    if (last_energy_uj_ && *energy >= *last_energy_uj_ && now > *last_energy_at_s_) {
      t.power_w = (*energy - *last_energy_uj_) / 1e6 / (now - *last_energy_at_s_);
    }
    last_energy_uj_ = energy;
    last_energy_at_s_ = now;
  }
  return t;
}

}  // namespace kiln::device
