# shellcheck shell=bash
# s3.sh is sourced by the test command. start_s3 runs a throwaway S3 server (versitygw over
# a fresh temporary directory) for the tests and exports PARLEY_TEST_S3_ENDPOINT,
# PARLEY_TEST_S3_ACCESS_KEY and PARLEY_TEST_S3_SECRET_KEY; stop_s3 ends it and removes its data.
# If PARLEY_TEST_S3_ENDPOINT is already set, an external server is used and nothing is started.
#
#   source .ci/s3.sh; start_s3 && trap stop_s3 EXIT; go test ./media/s3/...

PARLEY_VERSITYGW_VERSION=v1.8.0

# _s3_bin prints the path of the versitygw binary, installing it when missing.
_s3_bin() {
  local bindir="${PARLEY_TOOLS:-$HOME/.cache/parley-tools}/bin"
  if [ ! -x "$bindir/versitygw" ]; then
    echo "s3.sh: installing versitygw $PARLEY_VERSITYGW_VERSION into $bindir" >&2
    GOBIN="$bindir" go install "github.com/versity/versitygw/cmd/versitygw@$PARLEY_VERSITYGW_VERSION" >&2 || return 1
  fi
  echo "$bindir/versitygw"
}

# _s3_port_free reports whether nothing listens on 127.0.0.1:$1.
_s3_port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# _s3_free_port prints a port on 127.0.0.1 that nothing listens on.
_s3_free_port() {
  local port i
  for i in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if _s3_port_free "$port"; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# _s3_wait waits until the server listens on 127.0.0.1:$1 or its process $2 is gone.
_s3_wait() {
  local i
  for i in $(seq 1 100); do
    kill -0 "$2" 2>/dev/null || return 1
    if ! _s3_port_free "$1"; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# _s3_try starts versitygw on a fresh port; it sets _S3_PID and _S3_PORT on success.
_s3_try() {
  local bin="$1" port
  port="$(_s3_free_port)" || return 1
  "$bin" --access "$PARLEY_TEST_S3_ACCESS_KEY" --secret "$PARLEY_TEST_S3_SECRET_KEY" \
    --port "127.0.0.1:$port" posix "$_S3_DIR/data" >"$_S3_DIR/log" 2>&1 &
  _S3_PID=$!
  if _s3_wait "$port" "$_S3_PID"; then
    _S3_PORT=$port
    return 0
  fi
  kill "$_S3_PID" 2>/dev/null || true
  wait "$_S3_PID" 2>/dev/null || true
  _S3_PID=
  return 1
}

# start_s3 starts the test S3 server unless one is configured or already running.
start_s3() {
  if [ -n "${PARLEY_TEST_S3_ENDPOINT:-}" ]; then
    return 0
  fi
  local bin attempt
  bin="$(_s3_bin)" || { echo "s3.sh: versitygw install failed" >&2; return 1; }
  _S3_DIR="$(mktemp -d "${TMPDIR:-/tmp}/parley-s3.XXXXXX")" || return 1
  mkdir -p "$_S3_DIR/data"
  export PARLEY_TEST_S3_ACCESS_KEY="${PARLEY_TEST_S3_ACCESS_KEY:-parleytest}"
  export PARLEY_TEST_S3_SECRET_KEY="${PARLEY_TEST_S3_SECRET_KEY:-parleytestsecret}"
  for attempt in 1 2 3; do
    if _s3_try "$bin"; then
      export PARLEY_TEST_S3_ENDPOINT="127.0.0.1:$_S3_PORT"
      _S3_STARTED=1
      return 0
    fi
  done
  echo "s3.sh: versitygw did not start; its log:" >&2
  cat "$_S3_DIR/log" >&2
  rm -rf "$_S3_DIR"
  _S3_DIR=
  return 1
}

# stop_s3 stops the server start_s3 started and removes its data; an external one is left alone.
stop_s3() {
  if [ -z "${_S3_STARTED:-}" ]; then
    return 0
  fi
  kill "$_S3_PID" 2>/dev/null || true
  wait "$_S3_PID" 2>/dev/null || true
  rm -rf "$_S3_DIR"
  unset PARLEY_TEST_S3_ENDPOINT _S3_STARTED _S3_PID _S3_PORT _S3_DIR
}
