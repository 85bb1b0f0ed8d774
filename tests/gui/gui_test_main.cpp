// gui_tests' main: one QApplication for every test, offscreen unless the
// environment says otherwise (ctest sets QT_QPA_PLATFORM=offscreen too).

#include <QApplication>

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("kiln-tests"));
  QApplication::setApplicationName(QStringLiteral("gui_tests"));
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
