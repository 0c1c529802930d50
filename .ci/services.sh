# Sourced by .ci/test: install and start what the tests need, remember what was started,
# and stop exactly that at exit. Every function is idempotent.

PARLEY_STARTED=()

apt_install() {
	local missing=()
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "need root to install ${missing[*]}" >&2
		return 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() {
	for _ in $(seq 1 100); do port_open "$1" "$2" && return 0; sleep 0.2; done
	echo "nothing answers on $1:$2" >&2
	return 1
}

ensure_redis() {
	if port_open 127.0.0.1 6379; then
		export PARLEY_TEST_REDIS_ADDR=127.0.0.1:6379
		return 0
	fi
	apt_install redis-server
	local dir
	dir=$(mktemp -d)
	redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
		--dir "$dir" --logfile "$dir/redis.log"
	wait_port 127.0.0.1 6379
	PARLEY_STARTED+=("redis-cli -p 6379 shutdown nosave; rm -rf $dir")
	export PARLEY_TEST_REDIS_ADDR=127.0.0.1:6379
}

# ensure_postgres uses the machine's server when it answers with trust auth; otherwise it
# starts a private cluster on a spare port.
ensure_postgres() {
	if psql "postgres://postgres@127.0.0.1:5432/test?sslmode=disable" -Atc 'select 1' >/dev/null 2>&1; then
		export PARLEY_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
		return 0
	fi
	if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql/*/main >/dev/null 2>&1; then
		pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start 2>/dev/null || true
		if psql "postgres://postgres@127.0.0.1:5432/test?sslmode=disable" -Atc 'select 1' >/dev/null 2>&1; then
			export PARLEY_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
			return 0
		fi
	fi
	start_private_postgres
}

start_private_postgres() {
	apt_install postgresql
	local bin dir
	bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
	dir=$(mktemp -d)
	chown postgres "$dir"
	runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
	runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
		-o "-p 55432 -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
	psql "postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable" -qc 'create database test'
	PARLEY_STARTED+=("runuser -u postgres -- $bin/pg_ctl -D $dir/data -m fast stop >/dev/null; rm -rf $dir")
	export PARLEY_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:55432/test?sslmode=disable"
}

stop_started() {
	for ((i = ${#PARLEY_STARTED[@]} - 1; i >= 0; i--)); do
		eval "${PARLEY_STARTED[$i]}" || true
	done
	PARLEY_STARTED=()
}
