#!/usr/bin/env bash
# Runs the whole test suite with a JDK 25+ found the same way the ./whittle launcher finds one.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JDK_HOME="$("$ROOT/whittle" --print-jdk-home)"
cd "$ROOT"
JAVA_HOME="$JDK_HOME" exec mvn -B -ntp -Dstyle.color=never install "$@"
