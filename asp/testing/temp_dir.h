// TempDir: a fresh directory for one test (under $TEST_TMPDIR when Bazel sets it and
// it is short enough for Unix socket paths inside, else under /tmp), removed with
// everything in it when the object is destroyed.
#ifndef ASP_TESTING_TEMP_DIR_H_
#define ASP_TESTING_TEMP_DIR_H_

#include <string>

namespace asp::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string file(const std::string& name) const;

 private:
  std::string path_;
};

// Reads a whole file; empty on error.
std::string readFile(const std::string& path);
// Writes (replaces) a whole file; false on error.
bool writeFile(const std::string& path, const std::string& bytes);

}  // namespace asp::testing

#endif  // ASP_TESTING_TEMP_DIR_H_
