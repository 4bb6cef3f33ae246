# lib-https.sh: real HTTPS servers on 127.0.0.1 for the distribution
# tests, started and stopped by PID: nginx (WebDAV PUT, client certificates
# required) and a python sink (PUT and POST, tests/helpers/https-sink.py).
# Source after lib.sh.

NGINX=${NGINX:-/usr/sbin/nginx}
SYSPY=/usr/bin/python3
SINK=${top_srcdir:-.}/tests/helpers/https-sink.py
CMDA=$(dirname "$CMCTL")/cm-da

# free_port: a TCP port on 127.0.0.1 that nobody listens on just now.
free_port() {
	"$SYSPY" -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# tls_pki: $T/tls/{ca,server,client,rogue-ca,rogue-client}.{pem,key}: a TLS
# CA, the server's certificate (127.0.0.1 and localhost), a client
# certificate from the same CA, and a second CA with a client of its own.
tls_pki() {
	_d=$T/tls
	mkdir -p "$_d"
	for _ca in ca rogue-ca; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$_d/$_ca.key" -subj "/CN=TLS $_ca" \
		    -days 30 -addext "basicConstraints=critical,CA:TRUE" \
		    -addext "keyUsage=critical,keyCertSign" \
		    -out "$_d/$_ca.pem" >/dev/null 2>&1 ||
		    die "openssl: TLS $_ca"
	done
	_tls_leaf server ca "/CN=127.0.0.1" \
	    "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
	_tls_leaf client ca "/CN=opencm-da" "extendedKeyUsage=clientAuth"
	_tls_leaf rogue-client rogue-ca "/CN=rogue" \
	    "extendedKeyUsage=clientAuth"
}

_tls_leaf() {
	_d=$T/tls
	printf '%s\n' "$4" >"$_d/$1.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$_d/$1.key" -subj "$3" -out "$_d/$1.csr" \
	    >/dev/null 2>&1 || die "openssl: TLS $1 request"
	openssl x509 -req -in "$_d/$1.csr" -CA "$_d/$2.pem" \
	    -CAkey "$_d/$2.key" -CAcreateserial -days 30 \
	    -extfile "$_d/$1.ext" -out "$_d/$1.pem" >/dev/null 2>&1 ||
	    die "openssl: TLS $1 certificate"
}

# nginx_start DIR: nginx on a free port ($NGINX_PORT) serving DIR/www by
# PUT, a client certificate from the TLS CA required; /broken/ answers 500.
# Its PID is $NGINX_PID.
nginx_start() {
	_w=$1
	mkdir -p "$_w/www" "$_w/tmp"
	NGINX_PORT=$(free_port)
	cat >"$_w/nginx.conf" <<NGX
daemon off;
master_process off;
pid $_w/nginx.pid;
error_log $_w/error.log info;
events { worker_connections 64; }
http {
	client_body_temp_path $_w/tmp/body;
	proxy_temp_path $_w/tmp/proxy;
	fastcgi_temp_path $_w/tmp/fastcgi;
	uwsgi_temp_path $_w/tmp/uwsgi;
	scgi_temp_path $_w/tmp/scgi;
	access_log $_w/access.log;
	server {
		listen 127.0.0.1:$NGINX_PORT ssl;
		ssl_certificate $T/tls/server.pem;
		ssl_certificate_key $T/tls/server.key;
		ssl_client_certificate $T/tls/ca.pem;
		ssl_verify_client on;
		root $_w/www;
		location /broken/ { return 500; }
		location / {
			dav_methods PUT;
			create_full_put_path on;
			client_max_body_size 10m;
		}
	}
}
NGX
	"$NGINX" -p "$_w" -e "$_w/early.log" -c "$_w/nginx.conf" 9>&- &
	NGINX_PID=$!
	bg_track "$NGINX_PID"
	_wait_port "$NGINX_PORT" || die "nginx did not start: \
$(cat "$_w/early.log" "$_w/error.log" 2>/dev/null)"
}

nginx_stop() {
	kill "$NGINX_PID" 2>/dev/null
	wait "$NGINX_PID" 2>/dev/null
	bg_untrack "$NGINX_PID"
}

# sink_start NAME [sink options]: the python sink on a free port
# ($SINK_PORT, PID $SINK_PID) storing into $T/NAME, logging to $T/NAME.log.
sink_start() {
	_n=$1
	shift
	SINK_PORT=$(free_port)
	rm -f "$T/$_n.ready"
	"$SYSPY" "$SINK" "$SINK_PORT" "$T/tls/server.pem" "$T/tls/server.key" \
	    "$T/$_n" --ready "$T/$_n.ready" "$@" 9>&- 2>"$T/$_n.err" &
	SINK_PID=$!
	bg_track "$SINK_PID"
	_i=0
	while [ ! -s "$T/$_n.ready" ] && [ $_i -lt 100 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	[ -s "$T/$_n.ready" ] || die "the sink did not start: \
$(cat "$T/$_n.err")"
}

sink_stop() {
	kill "$SINK_PID" 2>/dev/null
	wait "$SINK_PID" 2>/dev/null
	bg_untrack "$SINK_PID"
}

_wait_port() {
	_i=0
	while [ $_i -lt 100 ]; do
		if "$SYSPY" -c "import socket,sys; socket.create_connection(\
('127.0.0.1', $1), 0.2)" 2>/dev/null; then
			return 0
		fi
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}

# da ARGS...: cm-da with the key store passphrase file.
da() {
	"$CMDA" --pin-file "$PIN" "$@"
}
