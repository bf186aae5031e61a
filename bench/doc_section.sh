# Sourced by the benchmark scripts: write_section NAME TITLE replaces the text between
# "<!-- results:NAME -->" and "<!-- end:NAME -->" in docs/benchmarks.md with its standard input, adding the
# section (headed TITLE) at the end of the file the first time.
write_section() {
  local name=$1 title=$2 doc body
  doc="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/docs/benchmarks.md"
  body=$(cat)
  if ! grep -q "^<!-- results:$name -->" "$doc"; then
    printf '\n## %s\n\n<!-- results:%s -->\n<!-- end:%s -->\n' "$title" "$name" "$name" >> "$doc"
  fi
  {
    sed "/^<!-- results:$name -->/q" "$doc"
    printf '%s\n' "$body"
    sed -n "/^<!-- end:$name -->/,\$p" "$doc"
  } > "$doc.new"
  mv "$doc.new" "$doc"
}
