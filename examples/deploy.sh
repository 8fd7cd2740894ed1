#!/usr/bin/env bash
# Rolls a version of examples/app@.service out to app@1..COUNT, one instance at a time, as a CI
# job would:
#
#   examples/deploy.sh VERSION [COUNT]        (COUNT defaults to 3)
#
# Renders the template with Environment=APP_VERSION=VERSION into a temp dir, then for each
# instance runs `fleetctl start --replace --block-attempts 120`, which returns once the instance
# is active with the new unit file (not the previous one still running), and checks with
# `fleetctl list-units` that it is active. The first failure stops the rollout: the instances
# after it keep their version. Exits 0 when every instance runs VERSION, 1 otherwise (with a
# message on stderr).
#
# Environment:
#   FLEETCTL  the fleetctl command, split on spaces (default: fleetctl), e.g.
#             FLEETCTL="node packages/fleetctl/dist/bin/fleetctl.js --endpoint unix:///run/fleet.sock"
#   APP_EXEC  replaces the template's ExecStart= command (e.g. /bin/false to rehearse a bad release)
set -euo pipefail

die() {
  printf 'deploy.sh: %s\n' "$*" >&2
  exit 1
}

(($# >= 1 && $# <= 2)) || die "usage: deploy.sh VERSION [COUNT]"
version=$1
count=${2:-3}
# The version goes into a unit file line: no spaces, quotes or specifiers.
[[ $version =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] || die "invalid VERSION '$version': use letters, digits and . _ + -"
[[ $count =~ ^[1-9][0-9]{0,3}$ ]] || die "invalid COUNT '$count': a whole number from 1 to 9999"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
template=$here/app@.service
[[ -r $template ]] || die "cannot read the template $template"
read -r -a fleetctl <<<"${FLEETCTL:-fleetctl}"
((${#fleetctl[@]} > 0)) || die "FLEETCTL is empty"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/deploy.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

# The template with this version (and APP_EXEC, if set), line by line: no sed escaping to get wrong.
render() {
  local line found=0
  while IFS= read -r line || [[ -n $line ]]; do
    case $line in
      Environment=APP_VERSION=*)
        line="Environment=APP_VERSION=$version"
        found=1
        ;;
      ExecStart=*)
        if [[ -n ${APP_EXEC:-} ]]; then line="ExecStart=$APP_EXEC"; fi
        ;;
    esac
    printf '%s\n' "$line"
  done <"$template"
  ((found)) || die "$template has no Environment=APP_VERSION= line"
}

render >"$tmp/app@.service"

# True when list-units shows the instance active (on any machine).
is_active() {
  local listed
  listed=$("${fleetctl[@]}" list-units --no-legend --fields unit,active) || die "fleetctl list-units failed"
  awk -v unit="$1" '$1 == unit && $2 == "active" { found = 1 } END { exit !found }' <<<"$listed"
}

for ((i = 1; i <= count; i++)); do
  unit="app@$i.service"
  # A file per instance: fleetctl would otherwise prefer an app@.service registered in the cluster.
  cp "$tmp/app@.service" "$tmp/$unit"
  echo "deploy.sh: $unit -> $version"
  "${fleetctl[@]}" start --replace --block-attempts 120 "$tmp/$unit" ||
    die "fleetctl start of $unit at version $version failed (see its error above); rollout stopped, the instances after it keep their version"
  is_active "$unit" || die "$unit is not active after its start; rollout stopped"
done

# An instance that died after its own start counts too.
for ((i = 1; i <= count; i++)); do
  is_active "app@$i.service" || die "app@$i.service is no longer active"
done
echo "deploy.sh: version $version is active on app@1..$count"
