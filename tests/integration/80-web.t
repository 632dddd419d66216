#!/bin/bash
# netsim web: the live view of a running 3node sim.  The server listens on
# 127.0.0.1 only, its API mirrors `netsim status --json` and shows a node's
# addresses and routes, headless Chromium renders the page (n1, n2, n3 in the
# DOM, a screenshot under the build's test-output/), and SIGTERM stops it
# cleanly.  Requests go to 127.0.0.1 only (bash's /dev/tcp: no curl needed).
. "$(dirname "$0")/lib.sh"
need_root
need_meshlite

SIM=tw3node
cleanup_sim $SIM
WEB_PID=
OUT_DIR=${NETSIM_TEST_OUTPUT:-$(dirname "$NETSIM")/test-output}

stop_web() {
	[ -n "$WEB_PID" ] && kill -TERM "$WEB_PID" 2>/dev/null && wait "$WEB_PID" 2>/dev/null
	WEB_PID=
}
trap 'stop_web; t_cleanup' EXIT

skip_test() { T_NUM=$((T_NUM + 1)); echo "ok $T_NUM # SKIP $*"; }

# http_get PATH [METHOD] -> the raw response (status line, headers, body);
# HOST_HDR overrides the Host header.
http_get() {
	exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
	printf '%s %s HTTP/1.0\r\nHost: %s\r\n\r\n' "${2:-GET}" "$1" \
		"${HOST_HDR:-127.0.0.1:$PORT}" >&3
	timeout 10 cat <&3
	exec 3<&-
}
http_status() { http_get "$@" | head -1 | tr -d '\r' | awk '{print $2}'; }
http_body() { http_get "$@" | tr -d '\r' | sed '1,/^$/d'; }

out=$("$NETSIM" web -s twnosuch --port 0 2>&1)
ok $([ $? -eq 1 ]; echo $?) "web of a sim that is not up fails"
like "$out" "^netsim: sim twnosuch is not up$" "...saying so"

out=$("$NETSIM" up -n $SIM "$TOP/topologies/3node.conf" 2>&1)
st=$?
ok $st "up topologies/3node.conf as $SIM"
[ $st -eq 0 ] || echo "$out" | sed 's/^/#   /'
"$NETSIM" reach -s $SIM --timeout 60 >/dev/null 2>&1
ok $? "reach: babel converged (routes to show)"

"$NETSIM" web -s $SIM --port 0 >"$T_TMP/web.out" 2>"$T_TMP/web.err" &
WEB_PID=$!
for _ in $(seq 100); do
	grep -q '^netsim web:' "$T_TMP/web.out" && break
	sleep 0.1
done
first=$(head -1 "$T_TMP/web.out")
like "$first" "^netsim web: http://127\.0\.0\.1:[0-9]+/ \(sim $SIM\)$" "web prints its URL ($first)"
PORT=$(echo "$first" | sed -n 's|.*127\.0\.0\.1:\([0-9]*\)/.*|\1|p')
[ -n "$PORT" ] || { echo "Bail out! web did not start: $(cat "$T_TMP/web.err")"; exit 1; }

# Listening sockets of the web process: exactly one, on 127.0.0.1.
socks=$(ss -Hltnp | grep "pid=$WEB_PID," | awk '{print $4}')
is "$socks" "127.0.0.1:$PORT" "listens on 127.0.0.1:$PORT and nowhere else"

status=$(http_body /api/status)
want=$("$NETSIM" status --json $SIM)
# (the nodes' cgroup usage, the neighbour tables and the fidelity sample move
# between the two reads)
no_usage() {
	sed -E 's/,"memory":\{[^}]*\}|,"pids":\{[^}]*\}|,"cpu_usec":[0-9]+//g;
		s/,"neigh":\[[^]]*\]//; s/,"fidelity":\{[^}]*\}//'
}
is "$(no_usage <<<"$status")" "$(no_usage <<<"$want")" "/api/status is the same document as status --json"
like "$status" '"memory":\{"current":[0-9]+' "/api/status has the nodes' usage"
names=$(printf '%s' "$status" | perl -MJSON::PP -0777 -ne \
	'print join(" ", map { "$_->{name}:$_->{state}" } @{decode_json($_)->{nodes}})')
is "$names" "n1:running n2:running n3:running" "/api/status has the three nodes, running"

is "$(http_status /api/node/n1)" 200 "/api/node/n1: 200"
node=$(http_body /api/node/n1)
details=$(printf '%s' "$node" | perl -MJSON::PP -0777 -ne '
	my $n = decode_json($_);
	my @a = map { my $i = $_; map { "$i->{ifname}=$_->{local}" } @{$i->{addr_info}} } @{$n->{addresses}};
	my @r = map { "$_->{dst}/$_->{protocol}" } @{$n->{routes}};
	print join(" ", $n->{name}, @a, "|", @r)')
like "$details" "^n1 .*lo=10\.13\.0\.1 " "node details list n1's address on lo"
like "$details" "eth0=fe80:" "...and eth0's link-local address"
like "$details" "\| .*10\.13\.0\.3/babel" "...and the babel route to n3"
is "$(http_status /api/node/n9)" 404 "unknown node: 404"
like "$(http_body /api/node/n9)" '^\{"error":"sim tw3node has no node n9"\}' "...with a JSON error"
is "$(http_status '/api/node/..%2f..')" 404 "a node name that is not a name: 404"
is "$(http_status /nothing-here)" 404 "unknown path: 404"
is "$(HOST_HDR=attacker.example:$PORT http_status /)" 403 "foreign Host header (DNS rebinding): 403"
is "$(HOST_HDR=localhost:$PORT http_status /)" 200 "Host localhost:PORT is fine"
is "$(http_status / POST)" 405 "POST: 405"
page=$(http_get /)
like "$page" "Content-Type: text/html" "/ is the page"
like "$page" '<script src="/app.js"' "...loading app.js"
like "$(http_get /app.js | head -8)" "Content-Type: text/javascript" "app.js is served"

out=$("$NETSIM" web -s $SIM --port "$PORT" 2>&1)
ok $([ $? -eq 1 ]; echo $?) "a second web on the same port fails"
like "$out" "^netsim: web: listen on 127\.0\.0\.1:$PORT: Address already in use$" "...saying why"

CHROMIUM=$(command -v chromium || command -v chromium-browser)
if [ -z "$CHROMIUM" ]; then
	for _ in 1 2 3 4; do skip_test "chromium not installed (apt-get install chromium)"; done
else
	mkdir -p "$OUT_DIR"
	shot="$OUT_DIR/web-3node.png"
	rm -f "$shot"
	chrome() {
		timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
			--no-first-run --disable-background-networking --disable-component-update \
			--disable-sync --disable-breakpad --user-data-dir="$(mktemp -d "$T_TMP/chrome.XXXXXX")" \
			--virtual-time-budget=5000 "$@" 2>>"$T_TMP/chromium.log"
	}
	dom=$(chrome --dump-dom "http://127.0.0.1:$PORT/")
	nodes=$(printf '%s' "$dom" | grep -o 'data-node="n[0-9]"' | sort -u | tr '\n' ' ')
	is "$nodes" 'data-node="n1" data-node="n2" data-node="n3" ' \
		"Chromium: the rendered graph has n1, n2 and n3"
	like "$dom" "3/3 nodes running · 2/2 links up" "Chromium: the page shows the summary"
	chrome --window-size=1200,800 --screenshot="$shot" "http://127.0.0.1:$PORT/#n1" >/dev/null
	ok $([ -s "$shot" ]; echo $?) "Chromium wrote a screenshot ($shot)"
	is "$(head -c 8 "$shot" 2>/dev/null | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a "...a PNG"
fi

# After `down` the page says the sim is not up (docs/web.md), not a file error.
"$NETSIM" down $SIM >/dev/null 2>&1
is "$(http_status /api/status)" 503 "after down: /api/status is 503..."
like "$(http_body /api/status)" "\"sim $SIM is not up\"" "...saying the sim is not up"
like "$(http_body /api/node/n1)" "\"sim $SIM is not up\"" "...and so does /api/node/NODE"

kill -TERM "$WEB_PID"
start=$(date +%s%N)
wait "$WEB_PID"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
WEB_PID=
is "$rc" 0 "SIGTERM: web exits 0 (in $ms ms)"
is "$(ss -Hltn "sport = :$PORT" | wc -l)" 0 "...and no longer listens"
is "$(cat "$T_TMP/web.err")" "" "...having printed no errors"

"$NETSIM" down $SIM >/dev/null 2>&1
is "$(leftovers $SIM)" "" "nothing of the sim remains"

done_testing
