#include "asp/testing/manager_faults.h"

#include "absl/strings/str_cat.h"
#include "asp/proto/wire.pb.h"

namespace asp::testing {

uint64_t dataMessages(absl::string_view message) {
  wire::v1::Message decoded;
  if (!decoded.ParseFromArray(message.data(), static_cast<int>(message.size()))) return 0;
  switch (decoded.content_case()) {
    case wire::v1::Message::kDataValue:
    case wire::v1::Message::kDataClean:
    case wire::v1::Message::kDataContext:
      return 1;
    case wire::v1::Message::kDataBatch:
      return static_cast<uint64_t>(decoded.data_batch().values_size());
    default:
      return 0;
  }
}

absl::StatusOr<std::unique_ptr<ManagerFaults>> ManagerFaults::create(Options options) {
  if (!(options.drop_rate >= 0 && options.drop_rate <= 1) ||
      !(options.duplicate_rate >= 0 && options.duplicate_rate <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("drop and duplicate rates must be in [0, 1], got ", options.drop_rate, " and ",
                     options.duplicate_rate));
  }
  if (options.answer_delay < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("answer delay is negative: ", absl::FormatDuration(options.answer_delay)));
  }
  return std::unique_ptr<ManagerFaults>(new ManagerFaults(options));
}

ManagerFaults::ManagerFaults(Options options)
    : options_(options), random_(options.seed != 0 ? options.seed : std::random_device{}()) {}

int ManagerFaults::copies(absl::string_view message) {
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.drop_rate > 0) {
    const uint64_t values = dataMessages(message);
    if (values > 0 && std::bernoulli_distribution(options_.drop_rate)(random_)) {
      ++counters_.dropped_datagrams;
      counters_.dropped_values += values;
      return 0;
    }
  }
  if (options_.duplicate_rate > 0 &&
      std::bernoulli_distribution(options_.duplicate_rate)(random_)) {
    ++counters_.duplicated;
    return 2;
  }
  return 1;
}

ManagerFaults::Counters ManagerFaults::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

}  // namespace asp::testing
