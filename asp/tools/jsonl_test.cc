// aspctl's change lines: one shape, read strictly, written so that it reads back.
#include "asp/tools/jsonl.h"

#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace asp::tools {
namespace {

std::string errorOf(absl::string_view line) {
  absl::StatusOr<Change> change = parseChangeLine(line);
  EXPECT_FALSE(change.ok()) << line;
  return change.ok() ? "" : std::string(change.status().message());
}

TEST(ChangeLine, ReadsEveryField) {
  absl::StatusOr<Change> c = parseChangeLine(
      R"({"id":"/etc/hosts","index":"states-fim-files","operation":"modify","version":18446744073709551615,"data":"{\"a\":1}"})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id, "/etc/hosts");
  EXPECT_EQ(c->index, "states-fim-files");
  EXPECT_EQ(c->operation, Operation::kModify);
  EXPECT_EQ(c->version, 18446744073709551615u);
  EXPECT_EQ(c->data, R"({"a":1})");
}

TEST(ChangeLine, ADumpedLineReadsBackAsTheSameChange) {
  SqliteChangeQueue::StoredChange stored;
  stored.id = "/etc/caf\xc3\xa9";
  stored.index = "states-fim-files";
  stored.data = std::string("\x00\xff\x01", 3);  // not UTF-8: dataBase64
  stored.version = 42;
  stored.is_new = true;
  stored.in_flight = true;
  stored.seq = 7;
  absl::StatusOr<std::string> line = formatDumpLine(stored);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_NE(
      line->find(
          R"("operation":"create","version":42,"dataBase64":"AP8B","state":"in_flight","seq":7)"),
      std::string::npos)
      << *line;
  absl::StatusOr<Change> back = parseChangeLine(*line);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->id, stored.id);
  EXPECT_EQ(back->operation, Operation::kCreate);
  EXPECT_EQ(back->data, stored.data);
  EXPECT_EQ(back->version, 42u);
}

TEST(ChangeLine, DumpNamesUpsertsAsPersistDoes) {
  SqliteChangeQueue::StoredChange stored;
  stored.id = "a";
  stored.index = "i";
  EXPECT_NE(formatDumpLine(stored)->find(R"("operation":"modify")"), std::string::npos);
  stored.is_delete = true;
  EXPECT_NE(formatDumpLine(stored)->find(R"("operation":"delete")"), std::string::npos);
  EXPECT_NE(formatDumpLine(stored)->find(R"("state":"pending")"), std::string::npos);
}

TEST(ChangeLine, AnIdThatIsNotUtf8CannotBeWrittenAndSaysSo) {
  SqliteChangeQueue::StoredChange stored;
  stored.id = "caf\xe9";
  stored.index = "i";
  absl::StatusOr<std::string> line = formatDumpLine(stored);
  ASSERT_FALSE(line.ok());
  EXPECT_NE(line.status().message().find("not UTF-8"), absl::string_view::npos);
}

TEST(ChangeLine, ADuplicateKeyIsAnError) {
  EXPECT_EQ(errorOf(R"({"id":"a","index":"i","operation":"create","id":"b"})"),
            "key \"id\" appears twice");
}

TEST(ChangeLine, AnUnknownKeyIsAnErrorListingTheKnownOnes) {
  EXPECT_NE(errorOf(R"({"id":"a","index":"i","operation":"create","isNew":true})")
                .find("unknown key 'isNew' (a change line has id, index, operation"),
            std::string::npos);
}

TEST(ChangeLine, VersionIsANumberNotAString) {
  EXPECT_EQ(
      errorOf(R"({"id":"a","index":"i","operation":"create","version":"7"})"),
      "\"version\" must be a whole number from 0 to 18446744073709551615, not the string '7'");
  EXPECT_NE(errorOf(R"({"id":"a","index":"i","operation":"create","version":-1})").find("negative"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"id":"a","index":"i","operation":"create","version":1.5})").find("1.5"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"id":"a","index":"i","operation":"create","version":18446744073709551616})")
                .find("18446744073709551616"),
            std::string::npos);
}

TEST(ChangeLine, MissingFieldsAndBadValuesAreNamed) {
  EXPECT_EQ(errorOf(R"({"index":"i","operation":"create"})"), "\"id\" is missing");
  EXPECT_EQ(errorOf(R"({"id":"a","index":"i","operation":"upsert"})"),
            "\"operation\" is 'upsert'; it must be create, modify or delete");
  EXPECT_EQ(
      errorOf(R"({"id":"a","index":"i","operation":"create","data":"x","dataBase64":"eA=="})"),
      "give \"data\" or \"dataBase64\", not both");
  EXPECT_EQ(errorOf(R"({"id":{"a":1},"index":"i","operation":"create"})"),
            "\"id\" must be a string, not an object");
  EXPECT_EQ(errorOf(R"(["a"])"), "a change line is one JSON object, {...}");
}

TEST(ChangeLine, NotJsonSaysWhere) {
  EXPECT_NE(errorOf("{not json").find("not JSON at byte"), std::string::npos);
  EXPECT_NE(errorOf(R"({"id":"a","index":"i","operation":"create"} {})").find("not JSON"),
            std::string::npos);
}

TEST(ChangeLine, ALongBadValueIsNotEchoedWhole) {
  const std::string id(70000, 'x');
  const std::string message =
      errorOf(R"({"id":")" + id + R"(","index":"i","operation":"explode"})");
  EXPECT_LT(message.size(), 200u);
}

TEST(ChangeLineReader, SkipsBlankLinesAndNumbersErrorsByLine) {
  std::istringstream in("{\"id\":\"a\",\"index\":\"i\",\"operation\":\"create\"}\n\n  \n{broken\n");
  ChangeLineReader reader(in);
  absl::StatusOr<std::optional<Change>> first = reader.next();
  ASSERT_TRUE(first.ok() && first->has_value());
  absl::StatusOr<std::optional<Change>> second = reader.next();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().message().substr(0, 8), "line 4: ");
}

TEST(ChangeLineReader, ALineLongerThanTheLimitIsRefusedNotBuffered) {
  std::istringstream in(std::string(kMaxLineBytes + 10, ' ') + "\n");
  ChangeLineReader reader(in);
  absl::StatusOr<std::optional<Change>> change = reader.next();
  ASSERT_FALSE(change.ok());
  EXPECT_NE(change.status().message().find("line 1: longer than 1048576 bytes"),
            absl::string_view::npos);
}

TEST(ChangeLineReader, ALastLineWithoutNewlineIsRead) {
  std::istringstream in("{\"id\":\"a\",\"index\":\"i\",\"operation\":\"delete\"}");
  ChangeLineReader reader(in);
  absl::StatusOr<std::optional<Change>> change = reader.next();
  ASSERT_TRUE(change.ok() && change->has_value());
  EXPECT_EQ((*change)->operation, Operation::kDelete);
  EXPECT_FALSE(reader.next()->has_value());
}

}  // namespace
}  // namespace asp::tools
