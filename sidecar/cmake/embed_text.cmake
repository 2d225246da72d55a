# Turns a text file into a C++ function returning it (one raw string literal).
# -DINPUT=file -DOUTPUT=file.cpp -DNAMESPACE=ns -DFUNCTION=name -DHEADER=include
file(READ ${INPUT} TEXT)
file(WRITE ${OUTPUT}.tmp "// Generated from ${INPUT}. Do not edit.\n"
  "#include \"${HEADER}\"\n\n"
  "namespace ${NAMESPACE} {\n"
  "namespace { constexpr char kText[] = R\"stockrelay_text(${TEXT})stockrelay_text\"; }\n"
  "std::string_view ${FUNCTION}() noexcept { return {kText, sizeof(kText) - 1}; }\n"
  "}  // namespace ${NAMESPACE}\n")
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
