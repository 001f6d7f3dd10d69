#!/usr/bin/env bash
# CI's run of the Spark job's check (contrib/spark/check.py): installs what
# it needs from the package registries (pyspark from PyPI, pinned; a Java
# runtime from Debian when none is on the PATH), then runs the check with
# the given binary. Prints a skip, and succeeds, only when pyspark or Java
# cannot be installed; a failed check fails.
#
#   bash contrib/spark/ci.sh target/debug/postmortem
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="${1:-target/debug/postmortem}"
# Spark >= 3.5 has hll_union_agg; 3.5.9 is what the check was written against.
pyspark_version="3.5.9"

if ! command -v java >/dev/null 2>&1; then
  echo "no java on the PATH: installing Debian's openjdk-17-jre-headless"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; } >/dev/null 2>&1; then
    echo "SKIPPED the Spark check: no Java runtime and none could be installed (apt-get install openjdk-17-jre-headless)"
    exit 0
  fi
fi
installed="$(python3 -c 'import pyspark; print(pyspark.__version__)' 2>/dev/null || true)"
if [ "$installed" != "$pyspark_version" ]; then
  echo "installing pyspark==$pyspark_version from PyPI (found: ${installed:-none})"
  if ! python3 -m pip install --quiet --disable-pip-version-check "pyspark==$pyspark_version"; then
    echo "SKIPPED the Spark check: pyspark==$pyspark_version could not be installed (python3 -m pip install pyspark==$pyspark_version)"
    exit 0
  fi
fi
python3 contrib/spark/check.py "$binary"
