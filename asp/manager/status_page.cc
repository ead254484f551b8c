#include "asp/manager/status_page.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace asp::manager {
namespace {

constexpr char kHead[] = R"html(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ASP manager</title>
<style>
body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}
td,th{border:1px solid #bbb;padding:.2em .6em;text-align:left;vertical-align:top}
th{background:#eee}.n{text-align:right}
</style></head><body>
)html";

std::string when(int64_t unix_seconds) {
  if (unix_seconds == 0) return "unknown";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

void figuresSection(const StatusView& view, std::string* out) {
  const ManagerCore::Counters& c = view.figures.core;
  const uint64_t refused =
      c.refused_invalid + c.refused_too_large + c.refused_table_full + c.refused_agent_limit;
  absl::StrAppend(out, "<h2>Sessions</h2>\n<table id=\"sessions\">",
                  "<tr><th>active</th><td class=\"n\">", view.figures.active_sessions, "</td></tr>",
                  "<tr><th>started</th><td class=\"n\">", c.sessions_started, "</td></tr>",
                  "<tr><th>applied</th><td class=\"n\">", c.sessions_applied, "</td></tr>",
                  "<tr><th>refused</th><td class=\"n\">", refused, "</td></tr>",
                  "<tr><th>apply failures</th><td class=\"n\">", c.apply_failures, "</td></tr>",
                  "<tr><th>changes applied</th><td class=\"n\">",
                  view.figures.store.changes_applied, "</td></tr></table>\n");
}

void modulesSection(const StatusView& view, std::string* out) {
  std::set<std::string> agents;
  for (const ModuleSummary& m : view.modules) agents.insert(m.key.agent);
  absl::StrAppend(out, "<h2>Agents</h2>\n");
  if (!view.modules_error.empty()) {
    absl::StrAppend(out,
                    "<p class=\"error\">cannot read the store: ", escapeHtml(view.modules_error),
                    "</p>\n");
    return;
  }
  absl::StrAppend(out, "<p>", agents.size(), " agents, ", view.modules.size(), " modules.</p>\n",
                  "<table id=\"modules\"><tr><th>agent</th><th>module</th><th>last sync</th>"
                  "<th>documents per index</th></tr>\n");
  for (const ModuleSummary& m : view.modules) {
    std::string documents;
    for (const auto& [index, count] : m.documents) {
      absl::StrAppend(&documents, documents.empty() ? "" : "<br>", escapeHtml(index), ": ", count);
    }
    absl::StrAppend(out, "<tr><td class=\"agent\">", escapeHtml(m.key.agent),
                    "</td><td class=\"module\">", escapeHtml(m.key.module), "</td><td>",
                    when(m.last_applied_unix), "</td><td>", documents, "</td></tr>\n");
  }
  absl::StrAppend(out, "</table>\n");
}

void failuresSection(const StatusView& view, std::string* out) {
  absl::StrAppend(out, "<h2>Recent failures</h2>\n");
  if (view.failures.empty()) {
    absl::StrAppend(out, "<p>none</p>\n");
    return;
  }
  absl::StrAppend(out, "<ul id=\"failures\">\n");
  for (auto it = view.failures.rbegin(); it != view.failures.rend(); ++it) {
    absl::StrAppend(out, "<li>",
                    absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", it->at, absl::UTCTimeZone()), ": ",
                    escapeHtml(it->line), "</li>\n");
  }
  absl::StrAppend(out, "</ul>\n");
}

}  // namespace

RecentFailures::RecentFailures(size_t capacity, Clock* clock)
    : capacity_(capacity), clock_(clock != nullptr ? clock : systemClock()) {}

void RecentFailures::add(absl::string_view line) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.push_back({clock_->now(), std::string(line)});
  while (entries_.size() > capacity_) entries_.pop_front();
}

std::vector<RecentFailures::Entry> RecentFailures::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {entries_.begin(), entries_.end()};
}

std::string escapeHtml(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // Control bytes (an id may hold any) are shown, not passed to the browser.
        if (static_cast<unsigned char>(ch) < 0x20) {
          absl::StrAppend(&out, absl::StrFormat("\\x%02x", static_cast<unsigned char>(ch)));
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::string statusPage(const StatusView& view) {
  std::string out = kHead;
  absl::StrAppend(&out, "<h1>ASP manager</h1>\n<p>State: ", escapeHtml(view.state),
                  ". Metrics for Prometheus: <a href=\"/metrics\">/metrics</a>.</p>\n");
  figuresSection(view, &out);
  modulesSection(view, &out);
  failuresSection(view, &out);
  absl::StrAppend(&out, "</body></html>\n");
  return out;
}

}  // namespace asp::manager
