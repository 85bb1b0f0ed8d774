#include "gui/app/options.hpp"

#include <gtest/gtest.h>

namespace kiln::gui {
namespace {

TEST(DashOptions, ParsesTheDesignsCommandLine) {
  auto o = parse_options({"--daemon", "127.0.0.1:7450", "--token-file", "t", "--screenshot", "x.png", "--view",
                          "chip:TRN-0205", "--size", "1024x700"},
                         "", "");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->daemon, "127.0.0.1:7450");
  EXPECT_EQ(o->view.kind, DashView::Kind::chip);
  EXPECT_EQ(o->view.serial, "TRN-0205");
  EXPECT_EQ(o->width, 1024);
  auto env = parse_options({}, "h:1", "f");
  ASSERT_TRUE(env);
  EXPECT_EQ(env->daemon, "h:1");
  EXPECT_EQ(env->token_file, "f");
  auto run = parse_view("run:12");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->run_id, 12u);
}

TEST(DashOptions, RefusesWhatItCannotUse) {
  EXPECT_FALSE(parse_options({"--view", "lab"}, "", "")) << "--view without --screenshot";
  EXPECT_FALSE(parse_options({"--screenshot", "x.png", "--view", "rack:1"}, "", ""));
  EXPECT_FALSE(parse_options({"--screenshot", "x.png", "--view", "run:0"}, "", ""));
  EXPECT_FALSE(parse_options({"--bogus"}, "", ""));
  EXPECT_FALSE(parse_options({"--daemon"}, "", ""));
  EXPECT_FALSE(parse_options({"--size", "10x10"}, "", ""));
  EXPECT_FALSE(parse_options({"--screenshot", "x.png", "--colour", "6"}, "", ""));
}

TEST(DashOptions, TheRunsAndScheduleViewsAndTheLifecycleColouring) {
  EXPECT_EQ(parse_view("runs")->kind, DashView::Kind::runs);
  EXPECT_EQ(parse_view("schedules")->kind, DashView::Kind::schedules);
  auto o = parse_options({"--screenshot", "x.png", "--view", "lab", "--colour", "5"}, "", "");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->colour, 5) << "Ctrl+6: lifecycle state";
}

}  // namespace
}  // namespace kiln::gui
