# Sourced by the shell tests (NAME_test.sh PAGERACE_BINARY SOURCE_DIR): the
# binary and the source tree as $bin and $src, a work directory $work
# removed at exit, with TMPDIR inside it (so that anything left in the temp
# directory shows), and the counts of passed and failed checks.
set -u
bin=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR"
passed=0
failed=0
