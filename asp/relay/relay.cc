#include "asp/relay/relay.h"

#include "absl/strings/str_cat.h"
#include "asp/proto/limits.h"
#include "asp/transport/framing.h"

namespace asp::relay {
namespace {

// How often the blocking loops look at stop(), and the wire counters are read.
constexpr absl::Duration kSlice = absl::Milliseconds(100);

absl::Status checkOptions(const Relay::Options& options) {
  if (options.managers.empty()) return absl::InvalidArgumentError("no manager address given");
  for (const std::string& manager : options.managers) {
    if (manager.empty()) return absl::InvalidArgumentError("an empty manager address");
  }
  if (options.max_buffered_bytes < wire::kMaxDatagramBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the outbound buffer (", options.max_buffered_bytes,
                     " bytes) must hold one datagram (", wire::kMaxDatagramBytes, " bytes)"));
  }
  if (options.max_modules < 1) return absl::InvalidArgumentError("max_modules must be >= 1");
  return validateBackoff(options.backoff);
}

WireBytes operator+(WireBytes a, WireBytes b) {
  return WireBytes{a.sent + b.sent, a.received + b.received};
}

}  // namespace

BackoffOptions defaultRelayBackoff() {
  BackoffOptions backoff;
  backoff.initial = absl::Milliseconds(500);
  backoff.cap = absl::Seconds(30);
  backoff.multiplier = 2;
  backoff.jitter = 0.2;
  return backoff;
}

absl::StatusOr<std::unique_ptr<Relay>> Relay::start(Options options,
                                                    std::unique_ptr<ManagerConnector> connector) {
  if (absl::Status s = checkOptions(options); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<LocalQueueSocket>> socket = LocalQueueSocket::open(options.socket);
  if (!socket.ok()) return socket.status();
  return std::unique_ptr<Relay>(
      new Relay(std::move(options), std::move(connector), *std::move(socket)));
}

Relay::Relay(Options options, std::unique_ptr<ManagerConnector> connector,
             std::unique_ptr<LocalQueueSocket> socket)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : systemClock()),
      connector_(std::move(connector)),
      socket_(std::move(socket)),
      routes_(options_.max_modules),
      buffer_(options_.max_buffered_bytes, clock_),
      schedule_(options_.managers, options_.backoff, options_.stable_after) {
  socket_thread_ = std::thread([this] { readSocket(); });
  connect_thread_ = std::thread([this] { connectLoop(); });
}

Relay::~Relay() { stop(); }

void Relay::stop() {
  if (stopping_.exchange(true)) return;
  connector_->interrupt();
  buffer_.close();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stream_ != nullptr) stream_->cancel();
    changed_.notify_all();
  }
  connect_thread_.join();
  socket_thread_.join();
  socket_.reset();  // closes it and removes the path
}

Relay::Counters Relay::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  Counters c = counters_;
  c.full_buffer_waits = buffer_.fullWaits();
  c.wire = closed_wire_ + (stream_ != nullptr ? stream_->wireBytes() : WireBytes{});
  return c;
}

std::string Relay::connectedManager() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connected_;
}

bool Relay::waitUntilConnected(absl::Duration timeout) {
  const absl::Time deadline = clock_->now() + timeout;
  std::unique_lock<std::mutex> lock(mu_);
  while (connected_.empty() && !stopping_ && clock_->now() < deadline) {
    clock_->waitUntil(lock, changed_, std::min(deadline, clock_->now() + kSlice));
  }
  return !connected_.empty();
}

void Relay::readSocket() {
  std::string datagram(wire::kMaxDatagramBytes + 1, '\0');
  while (!stopping_) {
    // Backpressure: no read while a whole datagram might not fit.
    if (!buffer_.waitForRoom(wire::kMaxDatagramBytes, clock_->now() + kSlice)) continue;
    std::optional<LocalQueueSocket::Received> received = socket_->receive(&datagram, kSlice);
    if (!received.has_value()) continue;
    const absl::string_view bytes(datagram.data(), std::min(received->length, datagram.size()));
    absl::StatusOr<framing::AgentFrame> frame = framing::decodeAgentFrame(bytes);
    const bool good = frame.ok() && received->length <= wire::kMaxDatagramBytes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.datagrams_in;
      counters_.bytes_in += received->length;
      if (!good) ++counters_.bad_datagrams;
    }
    if (!good) continue;
    routes_.remember(frame->module, received->sender.address, received->sender.length);
    buffer_.push(std::string(bytes));
  }
}

void Relay::connectLoop() {
  while (!stopping_) {
    const ReconnectSchedule::Attempt attempt = schedule_.next();
    if (attempt.wait_before > absl::ZeroDuration()) {
      log(absl::StrCat(
          "no manager reachable; next attempt in ",
          absl::FormatDuration(absl::Trunc(attempt.wait_before, absl::Milliseconds(1)))));
      if (!sleepUntil(clock_->now() + attempt.wait_before)) break;
    }
    absl::StatusOr<std::unique_ptr<ManagerStream>> stream = connector_->connect(attempt.manager);
    if (!stream.ok()) {
      if (stopping_) break;
      log(std::string(stream.status().message()));
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++counters_.connect_failures;
      }
      schedule_.finished(absl::ZeroDuration());
      continue;
    }
    const absl::Time opened = clock_->now();
    runStream(**stream, attempt.manager);
    schedule_.finished(clock_->now() - opened);
  }
}

void Relay::runStream(ManagerStream& stream, const std::string& manager) {
  setConnected(manager, &stream);
  log(absl::StrCat("connected to manager ", manager));
  std::atomic<bool> reader_done{false};
  std::thread reader([&] {
    std::string answer;
    while (stream.read(&answer)) deliverAnswer(answer);
    reader_done = true;
  });
  absl::Time sampled = clock_->now();
  while (!stopping_ && !reader_done) {
    // Read now and then, so a connection that breaks keeps counts close to its last bytes.
    if (clock_->now() - sampled >= kSlice) {
      stream.wireBytes();
      sampled = clock_->now();
    }
    std::optional<std::string> datagram = buffer_.pop(clock_->now() + kSlice);
    if (!datagram.has_value()) continue;
    const size_t size = datagram->size();
    const bool written = stream.write(*std::move(datagram));
    std::lock_guard<std::mutex> lock(mu_);
    if (!written) {
      ++counters_.datagrams_lost;
      break;
    }
    ++counters_.datagrams_forwarded;
    counters_.bytes_forwarded += size;
  }
  stream.cancel();
  reader.join();
  setConnected("", nullptr);
  const absl::Status ended = stream.finish();
  if (!stopping_) log(std::string(ended.message()));
}

void Relay::deliverAnswer(const std::string& answer) {
  absl::StatusOr<absl::string_view> module = answerModule(answer);
  std::optional<ModuleAddress> route = module.ok() ? routes_.find(*module) : std::nullopt;
  const bool delivered = route.has_value() && socket_->sendTo(*route, answer);
  std::lock_guard<std::mutex> lock(mu_);
  ++counters_.answers;
  if (delivered) {
    ++counters_.answers_delivered;
  } else {
    ++(route.has_value() ? counters_.answers_lost : counters_.answers_unroutable);
  }
}

bool Relay::sleepUntil(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_ && clock_->now() < deadline) clock_->waitUntil(lock, changed_, deadline);
  return !stopping_;
}

void Relay::setConnected(std::string manager, ManagerStream* stream) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stream != nullptr) ++counters_.connects;
  // The stream's wire bytes are read live while it is open; once it ends, they are kept.
  if (stream == nullptr && stream_ != nullptr) closed_wire_ = closed_wire_ + stream_->wireBytes();
  connected_ = std::move(manager);
  stream_ = stream;
  // stop() may have come between the stream opening and now.
  if (stream_ != nullptr && stopping_) stream_->cancel();
  changed_.notify_all();
}

void Relay::log(const std::string& line) {
  if (options_.log) options_.log(line);
}

}  // namespace asp::relay
