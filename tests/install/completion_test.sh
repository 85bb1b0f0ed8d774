#!/usr/bin/env bash
# The shipped bash completion offers what kiln accepts.
set -euo pipefail
source "$1"
complete_words() {  # the words kiln would be offered after "$@" (the last one being typed)
  COMP_WORDS=(kiln "$@")
  COMP_CWORD=$#
  COMPREPLY=()
  _kiln
  echo "${COMPREPLY[*]}"
}
expect() {  # expect WORD in the completions of the rest
  local want=$1; shift
  local got; got=$(complete_words "$@")
  [[ " $got " == *" $want "* ]] || { echo "completion: '$want' not offered after 'kiln $*' (got: $got)"; exit 1; }
}
expect report re
expect lab ""
expect --fail-on lab --fail
expect inconclusive lab --fail-on in
expect junit report 1 --format j
expect check plan ""
expect submit run s
expect --wait run submit plan.yaml --w
expect --version --ver
expect digest di
expect set chip TRN-0205 s
expect quarantined chip TRN-0205 set q
expect --drift chip TRN-0205 --dr
expect rma chips --state r
echo "completion: ok"
