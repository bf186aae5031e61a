# Writes OUT, a C++ file defining `const char* NAME` with the text of IN (cmake -DIN= -DOUT= -DNAME= -P).
file(READ "${IN}" text)
file(WRITE "${OUT}" "// Generated from ${IN}; edit that file.\nnamespace faceweave::server {\nextern const char* const ${NAME};\nconst char* const ${NAME} = R\"faceweave_text(${text})faceweave_text\";\n}  // namespace faceweave::server\n")
