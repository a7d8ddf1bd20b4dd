// Load SDFormat files with libsdformat and fail on anything it would only warn about.
//
// `ign sdf -k` lets unrecognized elements through with a warning; here the parser runs
// with the unrecognized-elements, deprecated-elements and warnings policies set to ERR,
// so a misspelt element or attribute fails. test_gz_sdf.py compiles this at test time:
//   g++ -std=c++17 sdf_strict_check.cc $(pkg-config --cflags --libs sdformat12)
// Usage: sdf_strict_check FILE...   (prints each error; exit status 1 if any file fails)
// Elements that SDF 1.10+ defines (Gazebo Harmonic / Ionic read them) but sdformat12 does not
// know are let through, as sdf_validate.NEWER_ELEMENTS does.
#include <iostream>
#include <string>
#include <sdf/sdf.hh>

static bool newer_element(const sdf::Error &error)
{
  return error.Message().find("XML Element[optical_frame_id], child of element[camera]") !=
         std::string::npos;
}

int main(int argc, char **argv)
{
  int failed = 0;
  for (int i = 1; i < argc; ++i)
  {
    sdf::ParserConfig config;
    config.SetUnrecognizedElementsPolicy(sdf::EnforcementPolicy::ERR);
    config.SetDeprecatedElementsPolicy(sdf::EnforcementPolicy::ERR);
    config.SetWarningsPolicy(sdf::EnforcementPolicy::ERR);
    sdf::Root root;
    const sdf::Errors errors = root.Load(argv[i], config);
    for (const auto &error : errors)
    {
      if (newer_element(error))
        continue;
      std::cout << argv[i] << ": " << error.Message() << "\n";
      failed = 1;
    }
  }
  return failed;
}
