#include "harness/program/codec_fuzz.h"

#include <span>
#include <string>
#include <string_view>

#include "harness/base/check.h"
#include "harness/program/codec.h"
#include "harness/program/program.h"
#include "harness/program/text.h"

namespace pagerace {
namespace {

// A valid program must survive the text format unchanged; `origin` says
// where it came from for the failure message.
void CheckTextRoundTrip(const Program& p, const char* origin) {
  const std::string text = PrintText(p);
  const Result<Program> parsed = ParseText(text);
  PR_CHECK_MSG(parsed.ok(), std::string(origin) + ": ParseText(PrintText(p)) failed: " +
                                parsed.status().message() + "\n" + text);
  PR_CHECK_MSG(parsed.value() == p, std::string(origin) + ": ParseText(PrintText(p)) != p\n" + text);
}

}  // namespace

int FuzzCodecOne(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  const Program p = Decode(bytes);
  const Status valid = Validate(p);
  PR_CHECK_MSG(valid.ok(), "Decode gave an invalid program: " + valid.message());
  PR_CHECK_MSG(Decode(Encode(p)) == p, "Decode(Encode(p)) != p");
  PR_CHECK_MSG(DecodeFuzzInput(EncodeFile(p)) == p, "DecodeFuzzInput(EncodeFile(p)) != p");
  CheckTextRoundTrip(p, "decoded");

  // The same bytes as text: errors are fine, anything accepted must be valid.
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Result<Program> parsed = ParseText(text);
  if (parsed.ok()) {
    const Status parsed_valid = Validate(parsed.value());
    PR_CHECK_MSG(parsed_valid.ok(), "ParseText accepted an invalid program: " + parsed_valid.message());
    PR_CHECK_MSG(Decode(Encode(parsed.value())) == parsed.value(), "parsed: Decode(Encode(p)) != p");
    CheckTextRoundTrip(parsed.value(), "parsed");
  }
  return 0;
}

}  // namespace pagerace
