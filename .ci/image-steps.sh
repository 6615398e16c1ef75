#!/usr/bin/env bash
# Replays infra/Dockerfile on this machine without a container runtime, so a broken image
# recipe fails CI where no Docker runs: each stage's COPY and RUN steps are read from the
# Dockerfile and carried out in a directory standing in for the stage's filesystem; then the
# runtime stage's ENTRYPOINT and CMD run `migrate`, `start` (on 127.0.0.1, with a token) and
# `worker` against this machine's Postgres (a throwaway database) and Redis, the HEALTHCHECK's
# own command must pass, and both stop cleanly. Everything is removed at the end.
#
# What cannot be replayed without a container is skipped and said so: system setup RUNs
# (apt-get: .ci/run installs the same sandbox packages; the user) and the base image itself.
# The build stage's `npm ci` uses this checkout's node_modules (installed from the same lock
# file by `npm ci` just before) unless IMAGE_STEPS_FULL=1.
#
# Needs: Node, npm, Postgres on 127.0.0.1:5432 (PANTHEON_TEST_POSTGRES_URL, as the tests);
# Redis on REDIS_URL (default redis://127.0.0.1:6379) for the worker step.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"
DOCKERFILE="${DOCKERFILE:-infra/Dockerfile}"
ADMIN_URL="${PANTHEON_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
REDIS="${REDIS_URL:-redis://127.0.0.1:6379}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/pantheon-image.XXXXXX")"
RUN_ID="img$(date +%s)$$"
DB="pantheon_${RUN_ID}"
PIDS=()
RUNTIME_APP=""

say() { printf '• %s\n' "$*"; }
die() { printf '✖ image steps: %s\n' "$*" >&2; exit 1; }

# A node one-liner run from the runtime stage's /app, so it uses the image's own dependencies.
app_node() { (cd "$RUNTIME_APP" && node --input-type=module -e "$@"); }

cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$RUNTIME_APP" ] && [ -d "$RUNTIME_APP/node_modules/pg" ]; then
    app_node "import pg from 'pg'; const c = new pg.Client(process.argv[1]); await c.connect(); await c.query('DROP DATABASE IF EXISTS $DB WITH (FORCE)'); await c.end();" "$ADMIN_URL" 2>/dev/null || true
    app_node "import { Redis } from 'ioredis'; const r = new Redis(process.argv[1], { lazyConnect: true, maxRetriesPerRequest: 1 }); try { await r.connect(); let c = '0'; do { const [n, keys] = await r.scan(c, 'MATCH', '$RUN_ID:*', 'COUNT', 1000); c = n; if (keys.length) await r.del(...keys); } while (c !== '0'); } catch {} r.disconnect();" "$REDIS" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  [ "$rc" -eq 0 ] || echo "✖ image steps failed (exit $rc)" >&2
}
trap cleanup EXIT

# ── read the Dockerfile: one instruction per line (continuations joined, comments dropped) ──
mapfile -t INSTRUCTIONS < <(awk '
  /^[[:space:]]*#/ { next }
  { line = $0; sub(/[[:space:]]+$/, "", line) }
  line ~ /\\$/ { sub(/\\$/, "", line); buf = buf line " "; next }
  { buf = buf line; if (buf ~ /[^[:space:]]/) print buf; buf = "" }
' "$DOCKERFILE")

declare -A ARGS=()
STAGE=""; ROOT=""; WORKDIR="/"; ENVS=(); USER_LINE=""; ENTRY_JSON=""; CMD_JSON=""; HEALTH_JSON=""

in_root() { case "$1" in /*) printf '%s%s' "$ROOT" "$1" ;; *) printf '%s%s/%s' "$ROOT" "$WORKDIR" "$1" ;; esac; }
expand_args() { local s="$1"; for k in "${!ARGS[@]}"; do s="${s//\$\{$k\}/${ARGS[$k]}}"; s="${s//\$$k/${ARGS[$k]}}"; done; printf '%s' "$s"; }

# COPY [--from=stage] [--chown=..] src... dest: a directory's contents go into dest, as Docker does.
do_copy() {
  local from="" words=() w
  read -r -a words <<<"$1"
  while [[ "${words[0]}" == --* ]]; do
    w="${words[0]}"; words=("${words[@]:1}")
    [[ "$w" == --from=* ]] && from="${w#--from=}"
  done
  local dest="${words[-1]}" srcs=("${words[@]:0:${#words[@]}-1}") target
  target="$(in_root "$dest")"
  for src in "${srcs[@]}"; do
    local path
    if [ -n "$from" ]; then path="$WORK/$from$src"; else path="$REPO/$src"; fi
    [ -e "$path" ] || die "COPY ${from:+--from=$from }$src: $path does not exist"
    if [ -d "$path" ]; then
      mkdir -p "$target"
      # The context side honours .dockerignore's patterns for what the build could otherwise pick up.
      if [ -n "$from" ]; then cp -a "$path/." "$target/"; else tar -C "$path" --exclude=node_modules --exclude=dist --exclude='*.test.ts' -cf - . | tar -C "$target" -xf -; fi
    elif [[ "$dest" == */ ]] || [ "${#srcs[@]}" -gt 1 ]; then
      mkdir -p "$target"; cp -a "$path" "$target/"
    else
      mkdir -p "$(dirname "$target")"; cp -a "$path" "$target"
    fi
  done
}

do_run() {
  local cmd="$1"
  while [[ "$cmd" == --* ]]; do cmd="${cmd#* }"; done # --mount=type=cache,... flags
  case "$cmd" in
    apt-get*|groupadd*|useradd*|ln\ -s*)
      say "[$STAGE] skipped (system setup, no container here): ${cmd:0:90}"
      return ;;
  esac
  if [ "$STAGE" = build ] && [[ "$cmd" == "npm ci "* ]] && [ "${IMAGE_STEPS_FULL:-0}" != 1 ]; then
    say "[$STAGE] $cmd → this checkout's node_modules (same lock file; IMAGE_STEPS_FULL=1 runs it)"
    ln -s "$REPO/node_modules" "$(in_root node_modules)"
    return
  fi
  say "[$STAGE] RUN $cmd"
  (cd "$(in_root .)" && env "${ENVS[@]}" npm_config_cache="${npm_config_cache:-$HOME/.npm}" npm_config_prefer_offline=true bash -euo pipefail -c "$cmd") || die "RUN $cmd failed in stage $STAGE"
}

START=$SECONDS
for line in "${INSTRUCTIONS[@]}"; do
  keyword="${line%% *}"; rest="${line#* }"
  case "${keyword^^}" in
    ARG) name="${rest%%=*}"; [[ "$rest" == *=* ]] && ARGS[$name]="${rest#*=}" ;;
    FROM)
      rest="$(expand_args "$rest")"
      STAGE="${rest##* AS }"; [[ "$rest" == *" AS "* ]] || STAGE="stage$RANDOM"
      ROOT="$WORK/$STAGE"; WORKDIR="/"; ENVS=(); mkdir -p "$ROOT"
      say "stage $STAGE (base image ${rest%% *}: not pulled here; this machine's $(node --version) stands in)" ;;
    WORKDIR) WORKDIR="$rest"; mkdir -p "$(in_root .)" ;;
    ENV) ENVS+=("$rest") ;;
    COPY) do_copy "$rest" ;;
    RUN) do_run "$rest" ;;
    USER) USER_LINE="$rest" ;;
    ENTRYPOINT) ENTRY_JSON="$rest" ;;
    CMD) CMD_JSON="$rest" ;;
    HEALTHCHECK) HEALTH_JSON="${rest#*CMD }" ;;
    EXPOSE|VOLUME|LABEL|STOPSIGNAL) ;;
    *) die "instruction ${keyword} is not replayed by .ci/image-steps.sh: teach it, or keep the Dockerfile simple" ;;
  esac
done
say "stages built in $((SECONDS - START))s"

ENGINES="$(node -p 'require("./package.json").engines.node')"
node -e '
  const [engines, version] = process.argv.slice(1);
  const min = Number(/>=\s*(\d+)/.exec(engines)?.[1]);
  if (!(Number(version) >= min)) { console.error(`base image Node ${version} does not satisfy package.json engines ${engines}`); process.exit(1); }
' "$ENGINES" "${ARGS[NODE_VERSION]:-0}" || die "NODE_VERSION of the Dockerfile"
[ "$STAGE" = runtime ] || die "the last stage must be named runtime (it is $STAGE)"
RUNTIME_APP="$ROOT/app"
[[ "$USER_LINE" =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] || die "USER must be a numeric non-root uid (runAsNonRoot checks it), not '$USER_LINE'"
[ -n "$ENTRY_JSON" ] && [ -n "$CMD_JSON" ] && [ -n "$HEALTH_JSON" ] || die "ENTRYPOINT, CMD and HEALTHCHECK CMD must be there (exec form)"
! [ -e "$RUNTIME_APP/node_modules/@biomejs/biome" ] || die "the runtime stage has devDependencies (@biomejs/biome)"

# The container's command lines, as arrays: tini dropped (it only reaps), /paths mapped into the stage.
mapfile -t ENTRY < <(node -e '
  const [root, entry, cmd] = process.argv.slice(1);
  let argv = [...JSON.parse(entry), ...JSON.parse(cmd)];
  if (/tini$/.test(argv[0])) argv = argv.slice(argv.indexOf("--") + 1);
  for (const a of argv) console.log(a.startsWith("/") && require("node:fs").existsSync(root + a) ? root + a : a);
' "$ROOT" "$ENTRY_JSON" "[]")
mapfile -t CMD < <(node -e 'for (const a of JSON.parse(process.argv[1])) console.log(a === "0.0.0.0" ? "127.0.0.1" : a)' "$CMD_JSON")
mapfile -t HEALTH < <(node -e 'for (const a of JSON.parse(process.argv[1])) console.log(a)' "$HEALTH_JSON")
DATA="$(in_root .)" # the final WORKDIR: the data dir's parent
chmod 0700 "$DATA"

PORT="$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
TOKEN="$(node -e 'console.log(require("node:crypto").randomBytes(24).toString("hex"))')"
DB_URL="$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.href)' "$ADMIN_URL" "$DB")"
app_node "import pg from 'pg'; const c = new pg.Client(process.argv[1]); await c.connect(); await c.query('CREATE DATABASE $DB'); await c.end();" "$ADMIN_URL" \
  || die "cannot create a database on $ADMIN_URL (is Postgres running?)"

# Like the compose file: Postgres and Redis by URL, a token, a model that is never called.
RUN_ENV=("${ENVS[@]}" DATABASE_URL="$DB_URL" REDIS_URL="$REDIS" PANTHEON_QUEUE_PREFIX="$RUN_ID" PANTHEON_CONSOLE_TOKEN="$TOKEN" PORT="$PORT"
  PANTHEON_MODEL=openai:image-steps OPENAI_API_KEY=unused OPENAI_BASE_URL=http://127.0.0.1:9/v1 PANTHEON_CONFIG= HOME="$DATA")

say "migrate: ${ENTRY[*]##*/} migrate"
(cd "$DATA" && env "${RUN_ENV[@]}" "${ENTRY[@]}" migrate) || die "pantheon migrate failed"

say "start: ${CMD[*]} on 127.0.0.1:$PORT"
(cd "$DATA" && exec env "${RUN_ENV[@]}" "${ENTRY[@]}" "${CMD[@]}") >"$WORK/server.log" 2>&1 &
SERVER=$!; PIDS+=("$SERVER")
healthy=""
for _ in $(seq 1 120); do
  if (cd "$DATA" && env PORT="$PORT" "${HEALTH[@]}") 2>/dev/null; then healthy=1; break; fi
  kill -0 "$SERVER" 2>/dev/null || break
  sleep 0.5
done
[ -n "$healthy" ] || { tail -n 40 "$WORK/server.log" >&2; die "the HEALTHCHECK did not pass within 60 s"; }
say "HEALTHCHECK passes"
app_node "
  const base = 'http://127.0.0.1:$PORT';
  const open = await fetch(base + '/api/chat/image-steps/messages');
  const auth = await fetch(base + '/api/chat/image-steps/messages', { headers: { authorization: 'Bearer $TOKEN' } });
  if (open.status !== 401 || auth.status !== 200) { console.error('/api: without token', open.status, 'with', auth.status); process.exit(1); }
" || die "the API does not require the token, or refuses it"
say "/api needs the token and takes it"

say "worker: ${ENTRY[*]##*/} worker"
(cd "$DATA" && exec env "${RUN_ENV[@]}" "${ENTRY[@]}" worker --data-dir "$DATA/.pantheon-worker") >"$WORK/worker.log" 2>&1 &
WORKER=$!; PIDS+=("$WORKER")
for _ in $(seq 1 120); do
  grep -q 'pantheon is ready' "$WORK/worker.log" && break
  kill -0 "$WORKER" 2>/dev/null || break
  sleep 0.5
done
grep -q 'pantheon is ready' "$WORK/worker.log" || { tail -n 40 "$WORK/worker.log" >&2; die "the worker did not get ready"; }
say "worker ready"

for pid in "$WORKER" "$SERVER"; do
  kill -TERM "$pid"
  rc=0; wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || { tail -n 20 "$WORK/server.log" "$WORK/worker.log" >&2; die "process $pid exited $rc after SIGTERM (expected 0)"; }
done
PIDS=()
echo "✔ image steps: built, migrated, started, healthy, stopped in $((SECONDS - START))s"
