#!/usr/bin/env bash
# Checks the deploy files as an operator's tools would, without a Docker engine:
# Kubernetes manifests against the API schemas (strict), Prometheus config and alert rules with
# their unit tests (promtool), the compose file against the compose specification's JSON schema,
# and nginx -t on the shipped nginx.conf. The live checks (a request through nginx, dashboard
# queries against real scrapes) run in tests/scale/run_scale_out.py, which .ci/run calls after this.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

need_apt=()
command -v promtool >/dev/null || need_apt+=(prometheus)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx-light)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]} (Debian packages)"
  while pgrep -x apt-get >/dev/null || pgrep -x dpkg >/dev/null; do sleep 5; done
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The packages' services are not started here: the checks run their binaries directly.
  RUNLEVEL=1 apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== kubernetes-validate --strict =="
"$BIN/kubernetes-validate" --strict --quiet deploy/kubernetes/*.yaml

echo "== promtool =="
# prometheus.yml names the read key file relative to itself; compose mounts the operator's key
# there. A placeholder stands in for it here, beside copies of the shipped files.
cp deploy/monitoring/prometheus.yml deploy/monitoring/alerts.yml deploy/monitoring/alerts.test.yml "$work/"
echo placeholder-read-key > "$work/igs-read-key"
promtool check config "$work/prometheus.yml"
promtool check rules deploy/monitoring/alerts.yml
(cd deploy/monitoring && promtool test rules alerts.test.yml)

echo "== compose specification schema =="
"$BIN/check-jsonschema" --builtin-schema vendor.compose-spec deploy/docker-compose.yml deploy/docker-compose.s3.yml
"$BIN/python" - <<'PY'
import json, pathlib
json.loads(pathlib.Path("deploy/monitoring/grafana-dashboard.json").read_text())
print("grafana-dashboard.json: valid JSON")
PY

echo "== nginx -t =="
# The shipped server block, inside a minimal main config; only what names the compose network
# (the host "api", the media volume, port 80) is replaced by local stand-ins.
mkdir -p "$work/media"
sed -e "s#http://api:8000#http://127.0.0.1:9#" -e "s#/data/media/#$work/media/#" \
    -e "s#listen 80;#listen 127.0.0.1:21581;#" deploy/nginx.conf > "$work/site.conf"
cat > "$work/nginx.conf" <<NGX
pid $work/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path $work/body; proxy_temp_path $work/proxy;
  fastcgi_temp_path $work/fcgi; uwsgi_temp_path $work/uwsgi; scgi_temp_path $work/scgi;
  include $work/site.conf;
}
NGX
"$NGINX" -t -q -c "$work/nginx.conf" -p "$work"
echo "nginx.conf: syntax ok"
echo "deploy/ validated"
