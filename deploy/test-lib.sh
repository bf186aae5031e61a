# Shell helpers shared by the container tests (deploy/image/test.sh, deploy/fleet-test.sh); sourced.

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# URL SECONDS: waits until URL answers 2xx; false when it never did.
wait_http() {
  for _ in $(seq $(($2 * 5))); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.2; done
  return 1
}

# PORT: waits up to a minute until the Prometheus on PORT reports the faceweave target up; false otherwise.
prometheus_scrapes_faceweave() {
  local up=""
  for _ in $(seq 60); do
    up=$(curl -fsS "http://127.0.0.1:$1/api/v1/query?query=up%7Bjob%3D%22faceweave%22%7D" 2>/dev/null |
      python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' ||
      true)
    [ "$up" = 1 ] && return 0
    sleep 1
  done
  echo "Prometheus reports up='$up'" >&2
  # Why: the target's last scrape error (a name the compose network's DNS does not know, a 401, ...).
  curl -fsS "http://127.0.0.1:$1/api/v1/targets" 2>/dev/null |
    python3 -c 'import json,sys; [print("Prometheus target", t["scrapeUrl"], "-", t["lastError"] or t["health"], file=sys.stderr) for t in json.load(sys.stdin)["data"]["activeTargets"]]' ||
    true
  return 1
}
