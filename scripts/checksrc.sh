#!/usr/bin/env bash
# The house rules a compiler does not check, over every tracked C, JavaScript and shell file:
#   - no banned C functions (unbounded or locale/static-buffer ones): sscanf sprintf vsprintf strcpy
#     strcat strncpy strtok atoi atol gets gmtime localtime;
#   - no I/O or clock calls in the pure cores (ocpp/ twc/ ems/ tesla/ common/ certs/): they take bytes and time in
#     and hand effects out through their callbacks;
#   - every file opens with its paragraph: a comment block first (after a #! line).
# Comments and string literals are not searched. Prints each finding as file:line: reason and exits 1
# if there is any. scripts/test.sh runs it first.
set -euo pipefail
cd "$(dirname "$0")/.."

banned='sscanf|sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|atol|gets|gmtime|localtime'
io='time|clock_gettime|gettimeofday|clock|fopen|fdopen|open|openat|read|write|close|socket|connect|send|recv|select|poll|printf|fprintf|dprintf|puts|fputs|perror|sleep|usleep|nanosleep|getenv|rand|srand|random|syslog|exit|abort'
findings=0

# C source with comments, string and character literals blanked, line numbers kept.
strip_c() {
  perl -0777 -pe '
    s{/\*.*?\*/}{ (my $c = $&) =~ s/[^\n]//g; $c }gse;
    s{//[^\n]*}{}g;
    s{"(?:\\.|[^"\\\n])*"}{""}g;
    s{'"'"'(?:\\.|[^'"'"'\\\n])*'"'"'}{0}g;
  ' "$1"
}

report() {
  echo "$1"
  findings=$((findings + 1))
}

mapfile -t c_files < <(git ls-files '*.c' '*.h')
for f in "${c_files[@]}"; do
  stripped=$(strip_c "$f")
  while IFS= read -r hit; do
    [ -n "$hit" ] && report "$f:${hit%%:*}: banned function (${hit#*:})"
  done < <(printf '%s\n' "$stripped" | grep -noP "(?<![\w.>])($banned)\s*\(" | sed 's/\s*($//' || true)
  case "$f" in
    ocpp/*|twc/*|ems/*|tesla/*|common/*|certs/*)
      while IFS= read -r hit; do
        [ -n "$hit" ] && report "$f:${hit%%:*}: I/O or clock call in a pure core (${hit#*:})"
      done < <(printf '%s\n' "$stripped" | grep -noP "(?<![\w.>])($io)\s*\(" | sed 's/\s*($//' || true)
      ;;
  esac
done

# The opening paragraph: a comment of at least two lines before anything else.
mapfile -t all_files < <(git ls-files '*.c' '*.h' '*.mjs' '*.sh' '.ci/run')
for f in "${all_files[@]}"; do
  mapfile -t -n 3 head_lines <"$f"
  [[ "${head_lines[0]:-}" == '#!'* ]] && head_lines=("${head_lines[@]:1}")
  case "$f" in
    *.c|*.h) mark='/\*' ;;
    *.mjs) mark='//' ;;
    *) mark='#' ;;
  esac
  if ! [[ "${head_lines[0]:-}" =~ ^$mark && -n "${head_lines[1]:-}" ]]; then
    report "$f:1: no opening paragraph saying the file's one job"
  fi
done

if [ "$findings" -gt 0 ]; then
  echo "checksrc: $findings finding(s)"
  exit 1
fi
echo "checksrc: ${#c_files[@]} C files, ${#all_files[@]} files checked, no findings"
