#!/usr/bin/env bash
# shellcheck disable=SC2317 # the check functions are called through run(), which shellcheck cannot see
# Checks each file of deploy/ with its own validator, where that validator is installed, and says
# which ran. Nothing here needs a network except --install (Debian and npm registries).
#
#   deploy/validate.sh                run the validators that are installed
#   deploy/validate.sh --install      install them first (apt: nginx systemd prometheus shellcheck
#                                     openssl; npm: deploy/validate/package.json), then run them
#   deploy/validate.sh --require-all  also fail when a validator is not installed
#
# The image itself is built only where a Docker daemon answers and --build-image is given.
# Exit: 0 all validators that ran passed (and, with --require-all, none was missing); 1 otherwise.
cd "$(dirname "$0")"
DEPLOY=$PWD

install=false; require_all=false; build_image=false
for arg in "$@"; do
  case "$arg" in
    --install) install=true ;;
    --require-all) require_all=true ;;
    --build-image) build_image=true ;;
    -h|--help) awk 'NR > 2 && /^#/ { sub(/^# ?/, ""); print; next } NR > 2 { exit }' "$DEPLOY/validate.sh"; exit 0 ;;
    *) echo "validate: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "$install" = true ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # Installing nginx or prometheus would start their services; a policy-rc.d (as in Debian's
  # container images) stops that, and is removed again if it was ours.
  own_policy=false
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    own_policy=true
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    nginx systemd prometheus shellcheck openssl >/dev/null
  if [ "$own_policy" = true ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi
  (cd validate && npm ci --no-audit --no-fund --loglevel=error)
fi

ran=(); missing=(); impossible=(); failed=()

# run NAME COMMAND...: runs one validator, keeps its output only when it fails.
run() {
  local name=$1; shift
  if "$@" >"$work/out" 2>&1; then
    ran+=("$name")
  else
    failed+=("$name")
    echo "--- $name failed:"
    cat "$work/out"
  fi
}
has() { command -v "$1" >/dev/null 2>&1; }

# nginx -t on the production site, with a throwaway self-signed certificate in place of the real one.
nginx_site() {
  local t=$work/nginx-site
  mkdir -p "$t/logs"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=relay.example.com \
    -keyout "$t/key.pem" -out "$t/cert.pem" 2>/dev/null
  sed -e "s#/etc/letsencrypt/live/relay.example.com/fullchain.pem#$t/cert.pem#" \
      -e "s#/etc/letsencrypt/live/relay.example.com/privkey.pem#$t/key.pem#" \
      -e "s#/var/log/nginx/#$t/logs/#g" nginx/relay.conf >"$t/site.conf"
  printf 'pid %s/nginx.pid;\nerror_log %s/logs/error.log;\nevents {}\nhttp {\n  access_log %s/logs/access.log;\n  include %s/site.conf;\n}\n' \
    "$t" "$t" "$t" "$t" >"$t/nginx.conf"
  nginx -t -p "$t" -c "$t/nginx.conf"
}

# nginx -t on the compose balancer; relay1/relay2 resolve only on compose's network, so they are
# pointed at loopback for the check.
nginx_compose() {
  local t=$work/nginx-compose
  mkdir -p "$t/logs"
  sed -e 's/server relay[12]:7777/server 127.0.0.1:7777/' compose/nginx.conf >"$t/nginx.conf"
  nginx -t -p "$t" -c "$t/nginx.conf" -g "pid $t/nginx.pid; error_log $t/logs/error.log;"
}

# systemd-analyze verify prints problems it tolerates ("Unknown key ..., ignoring") and still exits
# 0, so any output fails. ExecStart points at a stub because /usr/local/bin/relay is not here.
systemd_unit() {
  local t=$work/systemd
  mkdir -p "$t"
  printf '#!/bin/sh\n' >"$t/relay" && chmod +x "$t/relay"
  sed "s#/usr/local/bin/relay#$t/relay#" systemd/relay.service >"$t/relay.service"
  local out
  out=$(systemd-analyze verify "$t/relay.service" 2>&1) || { echo "$out"; return 1; }
  [ -z "$out" ] || { echo "$out"; return 1; }
}

promtool_config() { promtool check config prometheus/prometheus.yml; }
promtool_rules() { promtool check rules prometheus/relay-rules.yml; }

# Debian builds promtool without Kubernetes service discovery; where it has it, check the file.
promtool_kubernetes() {
  local out
  if out=$(promtool check config prometheus/prometheus-kubernetes.yml 2>&1); then return 0; fi
  if grep -q 'field kubernetes_sd_configs not found' <<<"$out"; then return 3; fi
  echo "$out"; return 1
}

# Every query of the dashboard, parsed by promtool as a recording rule (Grafana's variables
# replaced by values a query could have).
promtool_dashboard() {
  # shellcheck disable=SC2016 # the $ signs belong to the JavaScript and to Grafana
  node -e '
    const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const lines = ["groups:", "  - name: dashboard", "    rules:"];
    let n = 0;
    for (const p of d.panels) for (const t of p.targets || []) {
      const expr = t.expr.replaceAll("$__rate_interval", "5m").replaceAll("$instance", ".*");
      lines.push(`      - record: dashboard:query_${++n}`, `        expr: ${JSON.stringify(expr)}`);
    }
    process.stdout.write(lines.join("\n") + "\n");
  ' grafana/relay-dashboard.json >"$work/dashboard-rules.yml"
  promtool check rules "$work/dashboard-rules.yml"
}

dashboard_json() { node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' grafana/relay-dashboard.json; }
kubernetes_schemas() { node validate/k8s-validate.js kubernetes/*.yaml; }
compose_schema() { node validate/compose-validate.js compose/compose.yaml; }
dockerfile_lint() { validate/node_modules/.bin/dockerfile-utils lint Dockerfile; }
shell_scripts() { shellcheck ./*.sh; }

if has nginx && has openssl; then run "nginx -t (nginx/relay.conf)" nginx_site; else missing+=("nginx -t (needs nginx and openssl)"); fi
if has nginx; then run "nginx -t (compose/nginx.conf)" nginx_compose; else missing+=("nginx -t compose (needs nginx)"); fi
if has systemd-analyze; then run "systemd-analyze verify (systemd/relay.service)" systemd_unit; else missing+=("systemd-analyze"); fi
if has promtool; then
  run "promtool check config (prometheus/prometheus.yml)" promtool_config
  run "promtool check rules (prometheus/relay-rules.yml)" promtool_rules
  set +e; promtool_kubernetes >"$work/out" 2>&1; rc=$?; set -e
  case $rc in
    0) ran+=("promtool check config (prometheus/prometheus-kubernetes.yml)") ;;
    3) impossible+=("promtool check config (prometheus-kubernetes.yml): this promtool lacks Kubernetes service discovery") ;;
    *) failed+=("promtool check config (prometheus/prometheus-kubernetes.yml)"); cat "$work/out" ;;
  esac
  if has node; then run "promtool check rules (every dashboard query)" promtool_dashboard; fi
else
  missing+=("promtool (Debian package prometheus)")
fi
if has node; then
  run "JSON parse (grafana/relay-dashboard.json)" dashboard_json
  if [ -d validate/node_modules/kubernetes-models ]; then
    run "kubernetes-models schemas (kubernetes/*.yaml)" kubernetes_schemas
    run "compose-spec schema (compose/compose.yaml)" compose_schema
    run "dockerfile-utils lint (Dockerfile)" dockerfile_lint
  else
    missing+=("npm validators (cd deploy/validate && npm ci)")
  fi
else
  missing+=("node")
fi
if has shellcheck; then run "shellcheck (deploy/*.sh)" shell_scripts; else missing+=("shellcheck"); fi
if [ "$build_image" = true ] && has docker && docker info >/dev/null 2>&1; then
  run "docker build (Dockerfile)" docker build -q -f "$DEPLOY/Dockerfile" -t relay:validate "$DEPLOY/.."
else
  impossible+=("docker build: needs a Docker daemon and --build-image")
fi

echo
for v in "${ran[@]}"; do echo "ran:     $v"; done
for v in "${failed[@]}"; do echo "FAILED:  $v"; done
for v in "${missing[@]}"; do echo "missing: $v"; done
for v in "${impossible[@]}"; do echo "not run: $v"; done
echo "validate: ${#ran[@]} passed, ${#failed[@]} failed, ${#missing[@]} missing, ${#impossible[@]} not run here"
[ ${#failed[@]} -eq 0 ] || exit 1
if [ "$require_all" = true ] && [ ${#missing[@]} -gt 0 ]; then exit 1; fi
exit 0
