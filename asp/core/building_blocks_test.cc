// Unit tests of the session's building blocks: backoff, rate limiter, frame packer,
// answer channel.
#include "asp/base/backoff_policy.h"
#include "asp/core/answer_channel.h"
#include "asp/core/frame_packer.h"
#include "asp/core/rate_limiter.h"
#include "asp/testing/simulated_clock.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using wire::v1::Message;

TEST(BackoffPolicy, DoublesFromInitialUpToTheCapWithoutJitter) {
  BackoffOptions options;
  options.initial = absl::Seconds(1);
  options.cap = absl::Seconds(30);
  options.jitter = 0;
  BackoffPolicy policy(options);
  EXPECT_EQ(policy.delay(1), absl::Seconds(1));
  EXPECT_EQ(policy.delay(2), absl::Seconds(2));
  EXPECT_EQ(policy.delay(3), absl::Seconds(4));
  EXPECT_EQ(policy.delay(5), absl::Seconds(16));
  EXPECT_EQ(policy.delay(6), absl::Seconds(30));
  EXPECT_EQ(policy.delay(1000), absl::Seconds(30)) << "no overflow";
}

TEST(BackoffPolicy, JitterStaysWithinItsBandAndIsReproducibleFromTheSeed) {
  BackoffOptions options;
  options.jitter = 0.2;
  options.seed = 11;
  BackoffPolicy a(options), b(options);
  bool varied = false;
  for (int attempt = 1; attempt <= 50; ++attempt) {
    const absl::Duration base =
        std::min(absl::Seconds(30), absl::Seconds(1) * (1 << std::min(attempt - 1, 10)));
    const absl::Duration d = a.delay(attempt);
    EXPECT_EQ(d, b.delay(attempt));
    EXPECT_GE(d, base * 0.8);
    EXPECT_LE(d, base * 1.2);
    varied |= d != base;
  }
  EXPECT_TRUE(varied);
}

TEST(BackoffPolicy, ValidationNamesTheBadField) {
  BackoffOptions options;
  options.initial = -absl::Seconds(1);
  EXPECT_NE(validateBackoff(options).message().find("initial"), absl::string_view::npos);
  options = {};
  options.jitter = -0.1;
  EXPECT_NE(validateBackoff(options).message().find("-0.1"), absl::string_view::npos);
  EXPECT_TRUE(validateBackoff({}).ok());
}

TEST(RateLimiter, SpacesReservationsEvenly) {
  const absl::Time t0 = absl::UnixEpoch();
  RateLimiter limiter(4, t0);
  EXPECT_EQ(limiter.reserve(t0), t0);
  EXPECT_EQ(limiter.reserve(t0), t0 + absl::Milliseconds(250));
  EXPECT_EQ(limiter.reserve(t0), t0 + absl::Milliseconds(500));
}

TEST(RateLimiter, IdleTimeRefillsOnlyUpToTheBurst) {
  const absl::Time t0 = absl::UnixEpoch();
  RateLimiter limiter(10, t0, /*burst=*/2);
  limiter.reserve(t0);
  limiter.reserve(t0);
  const absl::Time later = t0 + absl::Seconds(60);
  EXPECT_EQ(limiter.reserve(later), later);
  EXPECT_EQ(limiter.reserve(later), later);
  EXPECT_EQ(limiter.reserve(later), later + absl::Milliseconds(100));
}

TEST(RateLimiter, ZeroIsUnlimited) {
  const absl::Time t0 = absl::UnixEpoch();
  RateLimiter limiter(0, t0);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(limiter.reserve(t0), t0);
}

wire::v1::DataValue value(uint64_t seq, size_t data) {
  wire::v1::DataValue v;
  v.set_seq(seq);
  v.set_session(12345);
  v.set_operation(wire::v1::OPERATION_UPSERT);
  v.set_id("id" + std::to_string(seq));
  v.set_index("idx");
  v.set_data(std::string(data, 'x'));
  return v;
}

TEST(FramePacker, TracksTheExactEncodedSize) {
  FramePacker packer(100000);
  for (uint64_t i = 0; i < 50; ++i) packer.add(value(i, i * 7));
  const size_t predicted = packer.messageBytes();
  EXPECT_EQ(packer.take().size(), predicted);
  EXPECT_TRUE(packer.empty());
}

// The packer encodes values itself, from views of their fields, into a buffer it
// reuses: every frame must be the bytes protobuf gives for the same Message, also after
// earlier frames of other sizes, with fields left at their default, and seqs and
// versions of every varint length.
TEST(FramePacker, EncodesEachFrameAsProtobufDoesWhileReusingItsBuffer) {
  FramePacker packer(100000);
  wire::v1::DataValue reused;
  for (uint64_t frame = 0; frame < 4; ++frame) {
    Message expected;
    const uint64_t values = frame % 2 == 0 ? 300 : 2;  // large, then small frames
    for (uint64_t i = 0; i < values; ++i) {
      reused = value(frame * 1000 + i, (i * 37) % 200);
      if (i % 3 == 0) reused.set_operation(wire::v1::OPERATION_DELETE);
      reused.set_version(i << 40);
      // Fields at their default are left out, as protobuf leaves them out.
      if (i % 5 == 1) reused.clear_index();
      if (i % 7 == 2) reused.clear_id();
      if (i % 11 == 3) reused.clear_operation();
      *expected.mutable_data_batch()->add_values() = reused;
      packer.add(reused);
    }
    const std::string want = expected.SerializeAsString();
    EXPECT_EQ(packer.messageBytes(), want.size());
    EXPECT_EQ(std::string(packer.take()), want) << "frame " << frame;
  }
}

TEST(FramePacker, FillsFramesUpToTheBudgetAndNoFurther) {
  constexpr size_t kBudget = 1000;
  FramePacker packer(kBudget);
  std::vector<std::string> frames;
  uint64_t values = 0;
  for (uint64_t i = 0; i < 100; ++i) {
    wire::v1::DataValue v = value(i, 90);
    if (!packer.fits(v)) frames.emplace_back(packer.take());
    packer.add(std::move(v));
  }
  frames.emplace_back(packer.take());
  for (size_t i = 0; i < frames.size(); ++i) {
    const std::string& frame = frames[i];
    EXPECT_LE(frame.size(), kBudget);
    if (i + 1 < frames.size()) {
      EXPECT_GT(frame.size(), kBudget - 120) << "a value would still have fit";
    }
    Message m;
    ASSERT_TRUE(m.ParseFromString(frame));
    values += m.data_batch().values_size();
  }
  EXPECT_EQ(values, 100u);
}

TEST(AnswerChannel, AcceptsOnlyWhatTheCurrentPhaseExpects) {
  testing::SimulatedClock clock;
  AnswerChannel channel(&clock);
  Message start_ack;
  start_ack.mutable_start_ack()->set_status(wire::v1::STATUS_OK);
  start_ack.mutable_start_ack()->set_session(9);
  Message end_ack;
  end_ack.mutable_end_ack()->set_status(wire::v1::STATUS_OK);
  end_ack.mutable_end_ack()->set_session(9);
  EXPECT_EQ(channel.deliver(start_ack, "a"), AnswerChannel::Delivery::kIgnored) << "idle";
  channel.open(AnswerChannel::Phase::kAwaitStartAck, 0);
  EXPECT_EQ(channel.deliver(end_ack, "b"), AnswerChannel::Delivery::kIgnored) << "wrong phase";
  EXPECT_EQ(channel.deliver(start_ack, "a"), AnswerChannel::Delivery::kAccepted);
  EXPECT_EQ(channel.deliver(start_ack, "a2"), AnswerChannel::Delivery::kIgnored)
      << "a second StartAck after a decisive one";
  channel.open(AnswerChannel::Phase::kAwaitEnd, 8);
  EXPECT_EQ(channel.deliver(end_ack, "b"), AnswerChannel::Delivery::kIgnored) << "session 9 != 8";
  channel.open(AnswerChannel::Phase::kAwaitEnd, 9);
  Message req;
  req.mutable_req_ret()->set_session(9);
  req.mutable_req_ret()->add_ranges();
  EXPECT_EQ(channel.deliver(req, "r"), AnswerChannel::Delivery::kAccepted);
  EXPECT_EQ(channel.deliver(req, "r"), AnswerChannel::Delivery::kDuplicate);
  channel.newRound();
  EXPECT_EQ(channel.deliver(req, "r"), AnswerChannel::Delivery::kAccepted)
      << "the same ReqRet after a resent End is legitimate";
}

TEST(AnswerChannel, WaitReturnsAnswersTimeoutsAndStops) {
  testing::SimulatedClock clock;
  AnswerChannel channel(&clock);
  channel.open(AnswerChannel::Phase::kAwaitStartAck, 0);
  Message answer;
  EXPECT_EQ(channel.wait(clock.now() + absl::Seconds(5), &answer), AnswerChannel::Wait::kTimeout);
  EXPECT_EQ(clock.elapsed(), absl::Seconds(5));
  Message ack;
  ack.mutable_start_ack()->set_status(wire::v1::STATUS_OK);
  ack.mutable_start_ack()->set_session(3);
  clock.scheduleAfter(absl::Seconds(1), [&] { channel.deliver(ack, "x"); });
  EXPECT_EQ(channel.wait(clock.now() + absl::Seconds(5), &answer), AnswerChannel::Wait::kAnswer);
  EXPECT_EQ(answer.start_ack().session(), 3u);
  channel.stop();
  EXPECT_EQ(channel.wait(clock.now() + absl::Seconds(5), &answer), AnswerChannel::Wait::kStopped);
  EXPECT_FALSE(channel.sleepUntil(clock.now() + absl::Seconds(1)));
  channel.reset();
  EXPECT_TRUE(channel.sleepUntil(clock.now() + absl::Seconds(1)));
}

}  // namespace
}  // namespace asp
