#!/bin/bash -eu
# ClusterFuzzLite's build.sh: the recipe lives in ci/oss-fuzz/build.sh.
exec "$SRC/pagerace/ci/oss-fuzz/build.sh"
