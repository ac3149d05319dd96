// Log lines are single lines whatever the values hold.
#include <gtest/gtest.h>

#include "systemd/log.h"

namespace orbitnest::log {
namespace {

TEST(Log, FormatsKeyValuePairs) {
  set_program("testd");
  const std::string line = format(Level::warning, "x.happened", {{"n", 3}, {"who", "bob"}});
  EXPECT_NE(line.find("level=warning daemon=testd event=x.happened n=3 who=bob\n"), std::string::npos) << line;
}

TEST(Log, ValuesCannotForgeLines) {
  const std::string line = format(Level::info, "e", {{"path", "/a\nlevel=error event=forged"}, {"q", "say \"hi\""}});
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  EXPECT_NE(line.find("path=\"/a\\nlevel=error event=forged\""), std::string::npos) << line;
  EXPECT_NE(line.find("q=\"say \\\"hi\\\"\""), std::string::npos) << line;
  const std::string ctl = format(Level::info, "e", {{"c", std::string("\x1b[31m")}});
  EXPECT_NE(ctl.find("c=\"\\x1b[31m\""), std::string::npos) << ctl;
}

TEST(Log, LevelsParse) {
  EXPECT_EQ(parse_level("debug"), Level::debug);
  EXPECT_EQ(parse_level("error"), Level::error);
  EXPECT_FALSE(parse_level("verbose").has_value());
}

}  // namespace
}  // namespace orbitnest::log
